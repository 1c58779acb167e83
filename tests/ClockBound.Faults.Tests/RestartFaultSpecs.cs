using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.ReaderProcess;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Faults.Tests;

/// <summary>
/// The daemon is killed and restarted, or stopped, under reader processes (issue 5, fault 3): clients must never see an
/// error, a torn value or an invalid status, and the segment must survive (warm restart: same file, same generation
/// sequence) or be left valid.
/// </summary>
public sealed class RestartFaultSpecs(ITestOutputHelper output)
{
    private const int Readers = 4;

    /// <summary>shm-v2.md: clients trust a stored Synchronized for 5 s after as_of, then report FreeRunning.</summary>
    private const long ClientGraceNanoseconds = 5 * Timespec.NanosPerSecond;

    /// <summary>Records the restarted daemon must publish (10 per second) before the readers stop, so that they read
    /// through the restart and well after it.</summary>
    private const int RecordsAfterRestart = 10;

    /// <summary>A reader can be descheduled between its snapshot and its clock reads: near the end of the grace it may
    /// still judge the old record after the new one was published.</summary>
    private const long SchedulingMarginNanoseconds = 500_000_000;

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The readers stop when told to ("stop"); this only bounds a run whose test died.</summary>
    private const string ReaderSafetySeconds = "120";

    /// <summary>
    /// SIGKILL, then a new daemon on the same segment: at once (clients keep saying Synchronized through the restart), or
    /// only once the clients' 5 s grace is over (they say FreeRunning meanwhile, never Unknown, then Synchronized again).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Readers_must_see_no_error_and_valid_statuses_while_the_daemon_is_killed_and_restarted_on_the_same_segment(bool restartAfterGrace)
    {
        await using var scenario = await DaemonScenario.StartAsync();
        var first = scenario.StartDaemon();
        await scenario.WaitSynchronizedAsync(first);
        long inode = Os.Inode(scenario.ShmPath);
        using var timeline = new SegmentTimeline(scenario.ShmPath);

        var readers = Enumerable.Range(1, Readers)
            .Select(i => ReaderProcessRun.Start($"reader {i}",
                ["read", scenario.ShmPath, scenario.VmClock.Path, ReaderSafetySeconds, "0", "--stop-on-stdin"]))
            .ToList();
        try
        {
            foreach (var reader in readers) await reader.WaitReadyAsync(ProcessTimeout);

            first.Signal(DaemonProcess.SIGKILL);
            Assert.Equal(128 + DaemonProcess.SIGKILL, await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            var killed = RawSegment.Decode(File.ReadAllBytes(scenario.ShmPath));
            ClockErrorBound lastBeforeKill;
            using (var reader = SegmentReader.Open(scenario.ShmPath)) lastBeforeKill = reader.Snapshot();

            if (restartAfterGrace)
            {
                // The outage outlasts the clients' grace by a second, during which they must all report FreeRunning.
                long outage = ClientGraceNanoseconds + Timespec.NanosPerSecond;
                await Poll.UntilAsync(() => Clocks.MonotonicCoarse().NanosecondsSince(lastBeforeKill.AsOf) >= outage,
                    TimeSpan.FromSeconds(30), "the clients' grace over");
            }
            var second = scenario.StartDaemon();
            var resumed = await timeline.WaitForAsync(e => e.Record.AsOf > lastBeforeKill.AsOf, DaemonScenario.SynchroniseTimeout,
                "a record of the restarted daemon", second);
            await timeline.WaitForAsync(e => e.Index >= resumed.Index + RecordsAfterRestart, TimeSpan.FromSeconds(30),
                $"{RecordsAfterRestart} records after the restart", second);
            var afterRestart = RawSegment.Decode(File.ReadAllBytes(scenario.ShmPath));

            foreach (var reader in readers) reader.Send("stop");
            var results = new List<(ReaderProcessRun Reader, int ExitCode, ReaderSummary Summary)>();
            foreach (var reader in readers)
            {
                var (exitCode, summary) = await reader.WaitForSummaryAsync(ProcessTimeout);
                results.Add((reader, exitCode, summary));
            }

            long gap = resumed.Record.AsOf.NanosecondsSince(lastBeforeKill.AsOf);
            long seenAfter = resumed.SeenMonotonic.NanosecondsSince(lastBeforeKill.AsOf);
            output.WriteLine($"killed at generation {killed.Generation}; first record of the restarted daemon: as_of {gap / 1_000_000} ms " +
                             $"after the last one before the kill, seen {seenAfter / 1_000_000} ms after it; generation {afterRestart.Generation} at the end");
            foreach (var (reader, exitCode, summary) in results)
                output.WriteLine($"{reader.Name}: exit {exitCode}, {summary.Count} reads, {summary.Updates} records, statuses " +
                                 $"{string.Join(", ", summary.Statuses.Select(s => $"{s.Key} {s.Value}"))}, sequence " +
                                 $"{string.Join(" -> ", summary.StatusSequence)}, errors {summary.Errors}, inconsistent {summary.Inconsistent}");
            output.WriteLine($"timeline:\n{timeline.Describe()}");
            output.WriteLine($"restarted daemon:\n{second.OutputText}");

            // Warm restart: the same file, its generation carried on (not reset), publishing resumed.
            Assert.Equal(inode, Os.Inode(scenario.ShmPath));
            Assert.Contains(second.Output, line => line.Contains($"(generation {killed.Generation})", StringComparison.Ordinal));
            int advanced = (ushort)(afterRestart.Generation - killed.Generation);
            Assert.InRange(advanced, 2 * RecordsAfterRestart, 10_000);
            Assert.Equal(ClockStatus.Synchronized, resumed.Status);
            if (restartAfterGrace) Assert.True(gap >= ClientGraceNanoseconds, $"restarted only {gap / 1_000_000} ms after the last as_of");

            // No flash of another status: every record either daemon wrote while chronyd was fine says Synchronized.
            Assert.All(timeline.Entries, e => Assert.Equal(ClockStatus.Synchronized, e.Status));

            foreach (var (reader, exitCode, summary) in results)
            {
                Assert.True(summary.Clean && exitCode == 0,
                    $"{reader.Name}: exit {exitCode}, {summary.Errors} errors, {summary.Inconsistent} inconsistent reads; first: {summary.FirstProblem}");
                Assert.True(summary.Count >= 1000, $"{reader.Name} read only {summary.Count} times");
                // The readers kept their mapping across the restart and saw the new daemon's records through it.
                Assert.True(summary.LastAsOfNanoseconds >= resumed.Record.AsOf.TotalNanoseconds,
                    $"{reader.Name}: last as_of seen {summary.LastAsOfNanoseconds}, the restarted daemon wrote {resumed.Record.AsOf}");
                // Synchronized until 5 s after the last as_of, FreeRunning only if the restart took longer than that.
                Assert.All(summary.Statuses.Keys, status => Assert.Contains(status, new[] { "Synchronized", "FreeRunning" }));
                if (restartAfterGrace)
                    Assert.Equal(["Synchronized", "FreeRunning", "Synchronized"], summary.StatusSequence);
                else if (seenAfter < ClientGraceNanoseconds - SchedulingMarginNanoseconds)
                    Assert.Equal(["Synchronized"], summary.StatusSequence);
                else // the restart took about the grace: either is right
                    Assert.Contains(string.Join(" -> ", summary.StatusSequence), new[] { "Synchronized", "Synchronized -> FreeRunning -> Synchronized" });
            }
        }
        finally
        {
            foreach (var reader in readers) await reader.DisposeAsync();
        }
    }

    [Fact]
    public async Task Daemon_must_exit_0_on_SIGTERM_and_leave_a_valid_segment()
    {
        await using var scenario = await DaemonScenario.StartAsync();
        var daemon = scenario.StartDaemon();
        await scenario.WaitSynchronizedAsync(daemon);
        // Stop it in its steady state, a few writes after the first.
        await scenario.WaitForSegmentAsync(daemon, s => s.Generation >= 10, TimeSpan.FromSeconds(30), "5 segment writes");

        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(15)));

        var segment = RawSegment.Decode(File.ReadAllBytes(scenario.ShmPath));
        output.WriteLine($"segment after SIGTERM: {segment}");
        Assert.Equal(RawSegment.ExpectedMagic, segment.Magic);
        Assert.Equal(80u, segment.SegmentSize);
        Assert.Equal(2, segment.Version);
        Assert.True(segment.Generation != 0 && segment.Generation % 2 == 0, $"generation {segment.Generation} is not even and non-zero");
        Assert.Equal(RawSegment.Synchronized, segment.ClockStatus);
        Assert.True(segment.AsOfSec > 0, $"as_of {segment.AsOfSec}.{segment.AsOfNsec:D9}");
        Assert.InRange(segment.BoundNsec, 1, Timespec.NanosPerSecond); // loopback chronyd: microseconds
        Assert.Equal(segment.AsOfSec + 1000, segment.VoidAfterSec);
        Assert.Equal((uint)DaemonScenario.MaxDriftPpm * 1000, segment.MaxDriftPpb);

        // A client opening it now still gets a usable bound that grows from the last one.
        using var client = ClockBound.Client.ClockBoundClient.Open(scenario.ShmPath, scenario.VmClock.Path);
        var now = client.Now();
        Assert.True(now.IsUsable, $"status {now.Status}");
        Assert.True(now.BoundNanoseconds >= segment.BoundNsec);
        Assert.Contains(daemon.Output, line => line.Contains("clockbound stopped", StringComparison.Ordinal));
    }
}
