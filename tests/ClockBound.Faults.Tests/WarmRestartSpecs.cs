using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Faults.Tests;

/// <summary>
/// README, "Clock status", "At start", with the real daemon, a real chronyd pair and a VMClock file: a restarted daemon
/// adopts the VMClock marker only when the previous run left it intact in the segment (no chronyd reset, no flash of
/// another status); a marker that changed while no daemon watched, or a previous run that ended Disrupted, is handled as
/// a disruption: Disrupted with the new marker first, chronyd reset, Synchronized only afterwards.
/// </summary>
public sealed class WarmRestartSpecs(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static int ResetsLogged(DaemonScenario scenario) => ChronydProcess.ResetsIn(scenario.Sandbox.Client.ReadLog());

    [Theory]
    [InlineData(DaemonProcess.SIGTERM, false)]
    [InlineData(DaemonProcess.SIGTERM, true)]
    [InlineData(DaemonProcess.SIGKILL, false)]
    [InlineData(DaemonProcess.SIGKILL, true)]
    public async Task A_restarted_daemon_must_adopt_an_intact_marker_and_treat_a_changed_one_as_a_disruption(int signal, bool bump)
    {
        await using var scenario = await DaemonScenario.StartAsync();
        var first = scenario.StartDaemon();
        await scenario.WaitSynchronizedAsync(first);
        // No segment at the first start: a disruption may have happened before, so chronyd was reset then too.
        Assert.True(ResetsLogged(scenario) >= 1, $"no reset at the first start:\n{scenario.Sandbox.Client.ReadLog()}");

        await StopAsync(first, signal);
        int resetsBefore = ResetsLogged(scenario);
        ulong marker = bump ? scenario.VmClock.BumpMarker() : scenario.VmClock.Marker;
        using var timeline = new SegmentTimeline(scenario.ShmPath); // entry 0: what the first daemon left
        var second = scenario.StartDaemon();
        var synchronized = await timeline.WaitForAsync(e => e.Index > 0 && e.Status == ClockStatus.Synchronized,
            DaemonScenario.SynchroniseTimeout, "Synchronized from the restarted daemon", second);
        var written = timeline.Entries.Skip(1).TakeWhile(e => e.Index <= synchronized.Index).ToList();
        output.WriteLine($"timeline:\n{timeline.Describe()}\nrestarted daemon:\n{second.OutputText}");

        Assert.All(written, e => Assert.Equal(marker, e.Record.DisruptionMarker));
        if (bump)
        {
            // Disrupted lasts as long as chronyd's reset, a few milliseconds here, so the timeline may read past it; the
            // daemon logs every record it publishes on a change, in order. Unknown lasts until the marker is known to be
            // stable again, long enough to be seen.
            Assert.True(written.Count > 1, "the restarted daemon's first record was Synchronized");
            Assert.All(written[..^1], e => Assert.Contains(e.Status, new[] { ClockStatus.Disrupted, ClockStatus.Unknown }));
            await LoggedAsync(second, $"Unknown -> Disrupted (VMClock disruption marker {marker} at start");
            await Poll.UntilAsync(() => ResetsLogged(scenario) > resetsBefore, Patience, "chronyd reset by the restarted daemon");
        }
        else
        {
            Assert.Equal([ClockStatus.Synchronized], written.Select(e => e.Status));
            await LoggedAsync(second, $"marker {marker} adopted");
            // Let a reset show if one was (wrongly) asked for: the restarted daemon keeps publishing meanwhile.
            await timeline.WaitForAsync(e => e.Index >= synchronized.Index + 10, Patience, "10 more records", second);
            Assert.Equal(resetsBefore, ResetsLogged(scenario));
            Assert.All(timeline.Entries.Skip(1), e => Assert.Equal(ClockStatus.Synchronized, e.Status));
        }
    }

    [Fact]
    public async Task A_restart_while_SIGUSR1_was_in_force_must_publish_Disrupted_and_reset_chronyd_before_Synchronized()
    {
        await using var scenario = await DaemonScenario.StartAsync();
        var first = scenario.StartDaemon();
        await scenario.WaitSynchronizedAsync(first);
        first.Signal(DaemonProcess.SIGUSR1);
        await scenario.WaitForSegmentAsync(first, s => s.ClockStatus == RawSegment.Disrupted, Patience, "Disrupted after SIGUSR1");

        await StopAsync(first, DaemonProcess.SIGTERM);
        int resetsBefore = ResetsLogged(scenario);
        using var timeline = new SegmentTimeline(scenario.ShmPath);
        var second = scenario.StartDaemon();
        var synchronized = await timeline.WaitForAsync(e => e.Index > 0 && e.Status == ClockStatus.Synchronized,
            DaemonScenario.SynchroniseTimeout, "Synchronized from the restarted daemon", second);
        output.WriteLine($"timeline:\n{timeline.Describe()}\nrestarted daemon:\n{second.OutputText}");

        Assert.True(synchronized.Index > 1, "the restarted daemon's first record was Synchronized");
        Assert.All(timeline.Entries.Skip(1).Take(synchronized.Index - 1), e => Assert.Contains(e.Status, new[] { ClockStatus.Disrupted, ClockStatus.Unknown }));
        await LoggedAsync(second, "Unknown -> Disrupted (VMClock disruption marker");
        Assert.True(ResetsLogged(scenario) > resetsBefore, $"no reset logged by chronyd:\n{scenario.Sandbox.Client.ReadLog()}");
        await LoggedAsync(second, "last record says Disrupted");
    }

    /// <summary>Waits for the daemon to log <paramref name="text"/>: its output reaches the test through a pipe, after
    /// the segment shows what it did.</summary>
    private static Task LoggedAsync(DaemonProcess daemon, string text) =>
        daemon.WaitUntilAsync(() => daemon.Output.Any(line => line.Contains(text, StringComparison.Ordinal)), Patience,
            $"the daemon logging \"{text}\"");

    private static async Task StopAsync(DaemonProcess daemon, int signal)
    {
        daemon.Signal(signal);
        int expected = signal == DaemonProcess.SIGKILL ? 128 + DaemonProcess.SIGKILL : 0;
        Assert.Equal(expected, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }
}
