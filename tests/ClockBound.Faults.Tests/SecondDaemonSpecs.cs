using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Faults.Tests;

/// <summary>
/// A second daemon started on the segment of a running one (a second unit, a manual start while the service runs): it must
/// refuse to start, saying who holds the segment, and leave the first one publishing. Two writers would interleave their
/// seqlock updates and clients could accept a record mixed from both.
/// </summary>
public sealed class SecondDaemonSpecs(ITestOutputHelper output)
{
    private const int StartupFailure = 1;

    /// <summary>The second daemon stops at its start-up checks: well within this on a loaded 2-core machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Records the first daemon must publish after the second one gave up (10 per second).</summary>
    private const int WritesAfterRefusal = 5;

    [Fact]
    public async Task A_second_daemon_on_the_segment_of_a_running_one_must_exit_1_naming_the_segment_and_the_first_daemons_pid()
    {
        await using var scenario = await DaemonScenario.StartAsync();
        var first = scenario.StartDaemon();
        await scenario.WaitSynchronizedAsync(first);

        var second = scenario.StartDaemon();
        int exitCode = await second.WaitForExitAsync(Patience);
        output.WriteLine(second.OutputText);

        Assert.Equal(StartupFailure, exitCode);
        var line = Assert.Single(second.Output, l => l.Contains(scenario.ShmPath));
        Assert.Contains($"clock error bound segment {scenario.ShmPath} is locked by another clockbound (pid {first.Pid}): only one daemon may publish a segment", line);

        // The first daemon was not disturbed: it keeps advancing the generation (by 2 per write; it wraps, so count changes).
        ushort seen = RawSegment.TryRead(scenario.ShmPath)?.Generation ?? 0;
        for (int write = 0; write < WritesAfterRefusal; write++)
        {
            var segment = await scenario.WaitForSegmentAsync(first, s => s.Generation != seen, Patience, $"write {write + 1} after the refusal");
            // Synchronized, or FreeRunning when chronyd's reference briefly looks stale (its own verdict: right after the
            // start's reset and burst its update interval is short, and "older than 8 intervals" comes quickly).
            Assert.Contains(segment.ClockStatus, new[] { RawSegment.Synchronized, RawSegment.FreeRunning });
            seen = segment.Generation;
        }
        Assert.False(first.HasExited);
    }
}
