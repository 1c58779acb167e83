using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Faults.Tests;

/// <summary>
/// The real daemon with a VMClock that goes missing, shrinks or is caught mid-update by a writer that stopped: each is
/// named in the log, the watcher is restarted by its supervisor, and the daemon never claims Synchronized while it cannot
/// tell whether the clock was disrupted. A marker changed during a torn update is acted on once the update completes,
/// and only once. The VMClock is a file with the device's layout (FakeVmClock); chronyd is a real synchronised pair.
/// </summary>
public sealed class VmClockFaultSpecs(SynchronisedChronyd chronyd) : IClassFixture<SynchronisedChronyd>, IDisposable
{
    private const int StartupFailure = 1;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new("cbvmc");

    public void Dispose() => _dir.Dispose();

    private string ShmPath => _dir.Combine("shm0");

    private string VmClockPath => _dir.Combine("vmclock0");

    private DaemonProcess StartDaemon(params string[] extra)
    {
        // Restarts of the watcher at most 1 s apart, so that a recovered device is noticed quickly.
        var config = _dir.Combine("fast-backoff.conf");
        File.WriteAllText(config, "clockbound.supervision.max-backoff = 1s\n");
        return DaemonProcess.Start([
            "--max-drift-rate", "50", "-c", config, "--shm-path", ShmPath,
            "--chrony-socket", chronyd.Sandbox.ClientSocketPath, "--vmclock-path", VmClockPath, .. extra,
        ]);
    }

    private async Task WaitForStatus(DaemonProcess daemon, int status, ulong marker, string what) =>
        await daemon.WaitUntilAsync(() => RawSegment.TryRead(ShmPath) is { } s && s.ClockStatus == status && s.DisruptionMarker == marker,
            Patience, what);

    /// <summary>Puts a valid VMClock with <paramref name="marker"/> back at the path (returned: the caller disposes it),
    /// waits for Synchronized, and checks that the readers saw exactly Synchronized, Unknown, Synchronized.</summary>
    private async Task<FakeVmClock> RestoreAndExpectUnknownOnlyInBetween(DaemonProcess daemon, SegmentRecorder recorder, ulong marker)
    {
        var restored = FakeVmClock.Create(VmClockPath, marker);
        try
        {
            await WaitForStatus(daemon, RawSegment.Synchronized, marker, "Synchronized once the VMClock is valid again");
            // The recorder reads on its own thread: let it catch up with what was just seen directly.
            await daemon.WaitUntilAsync(() => recorder.States[^1].Status == ClockStatus.Synchronized, Patience, "the recorder seeing it");
            Assert.Equal(
                [ClockStatus.Synchronized, ClockStatus.Unknown, ClockStatus.Synchronized],
                recorder.States.Select(s => s.Status));
            return restored;
        }
        catch
        {
            restored.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task A_missing_VMClock_at_start_must_be_fatal_with_exit_code_1_naming_the_path_and_the_remedies()
    {
        await using var daemon = StartDaemon();

        Assert.Equal(StartupFailure, await daemon.WaitForExitAsync(Patience));
        var line = Assert.Single(daemon.Output, l => l.Contains(VmClockPath));
        Assert.Contains("does not exist", line);
        Assert.Contains("--disable-clock-disruption-support", line);
        Assert.False(File.Exists(ShmPath)); // refused before touching the segment
    }

    [Fact]
    public async Task A_missing_VMClock_must_not_matter_with_disruption_support_disabled()
    {
        await using var daemon = StartDaemon("-d");

        await WaitForStatus(daemon, RawSegment.Synchronized, marker: 0, "Synchronized without a VMClock");
        Assert.Equal(0, RawSegment.TryRead(ShmPath)!.DisruptionSupport);
        Assert.DoesNotContain(daemon.Output, l => l.Contains(VmClockPath));
    }

    [Fact]
    public async Task A_VMClock_truncated_while_running_must_make_the_status_Unknown_until_it_is_valid_again()
    {
        var vmClock = FakeVmClock.Create(VmClockPath, marker: 5);
        await using var daemon = StartDaemon();
        await WaitForStatus(daemon, RawSegment.Synchronized, marker: 5, "Synchronized");
        using var recorder = new SegmentRecorder(ShmPath);

        vmClock.Truncate();
        vmClock.Dispose();
        await WaitForStatus(daemon, RawSegment.Unknown, marker: 5, "Unknown after the truncation");
        await daemon.WaitUntilAsync(() => daemon.Output.Any(l => l.Contains($"VMClock file {VmClockPath} is 0 bytes long")),
            Patience, "the truncation named in the log");
        // The watcher keeps failing (the file is still empty) and keeps being restarted.
        await daemon.WaitUntilAsync(() => daemon.Output.Any(l => l.Contains("vmclock-watcher failed") && l.Contains("restart #2")),
            Patience, "the watcher restarted twice");
        Assert.Equal(ClockStatus.Unknown, recorder.States[^1].Status);

        using var restored = await RestoreAndExpectUnknownOnlyInBetween(daemon, recorder, marker: 5);
    }

    [Fact]
    public async Task A_VMClock_removed_while_running_must_make_the_status_Unknown_naming_the_path_until_it_is_back()
    {
        var vmClock = FakeVmClock.Create(VmClockPath, marker: 5);
        await using var daemon = StartDaemon();
        await WaitForStatus(daemon, RawSegment.Synchronized, marker: 5, "Synchronized");
        using var recorder = new SegmentRecorder(ShmPath);

        // The watcher's mapping outlives the name, so reads alone would go on as if nothing happened; the check at its
        // heartbeat (1 s) notices that the device is gone.
        vmClock.Delete();
        await WaitForStatus(daemon, RawSegment.Unknown, marker: 5, "Unknown once the removal is noticed");
        await daemon.WaitUntilAsync(() => daemon.Output.Any(l => l.Contains($"VMClock device {VmClockPath} was removed while open")),
            Patience, "the removal named in the log");
        // Restarted, the watcher cannot open the path: the missing device is named, the status stays Unknown.
        await daemon.WaitUntilAsync(() => daemon.Output.Any(l => l.Contains($"VMClock device {VmClockPath} does not exist")),
            Patience, "the missing device named in the log");
        Assert.Equal(ClockStatus.Unknown, recorder.States[^1].Status);
        vmClock.Dispose();

        using var restored = await RestoreAndExpectUnknownOnlyInBetween(daemon, recorder, marker: 5);
    }

    [Fact]
    public async Task A_VMClock_replaced_while_running_must_be_opened_again_and_its_marker_acted_on()
    {
        var vmClock = FakeVmClock.Create(VmClockPath, marker: 5);
        await using var daemon = StartDaemon();
        await WaitForStatus(daemon, RawSegment.Synchronized, marker: 5, "Synchronized");

        // Another file at the same path (a device re-created after a driver reload, say): the watcher notices at its
        // heartbeat, is restarted, opens the new one and sees its marker, which is a disruption.
        vmClock.Delete();
        using var replacement = FakeVmClock.Create(VmClockPath, marker: 9);
        await daemon.WaitUntilAsync(() => daemon.Output.Any(l => l.Contains($"VMClock device {VmClockPath} was replaced by another file while open")),
            Patience, "the replacement named in the log");
        await WaitForStatus(daemon, RawSegment.Synchronized, marker: 9, "Synchronized with the new device's marker after chronyd's reset");
        vmClock.Dispose();
    }

    [Fact]
    public async Task A_torn_update_must_never_be_read_as_data_and_its_marker_must_be_acted_on_once_when_it_completes()
    {
        using var vmClock = FakeVmClock.Create(VmClockPath, marker: 5);
        await using var daemon = StartDaemon();
        await WaitForStatus(daemon, RawSegment.Synchronized, marker: 5, "Synchronized");
        using var recorder = new SegmentRecorder(ShmPath);
        // Without a previous segment the start itself was handled as a disruption (the log reaches us through a pipe).
        await daemon.WaitUntilAsync(() => daemon.Output.Any(l => l.Contains("Resetting chronyd's sources")), Patience, "the start's reset logged");
        int resetsBefore = daemon.Output.Count(l => l.Contains("Resetting chronyd's sources"));

        // A writer that stopped mid-update, with the new marker already in place: odd seq_count, left so.
        vmClock.BeginTornUpdate();
        vmClock.Update(vmClock.Current with { DisruptionMarker = 6 });
        await WaitForStatus(daemon, RawSegment.Unknown, marker: 5, "Unknown during the torn update");
        await daemon.WaitUntilAsync(() => daemon.Output.Any(l => l.Contains("vmclock-watcher failed") && l.Contains("torn update")),
            Patience, "the torn update logged and the watcher restarted");
        var duringTornUpdate = recorder.States;

        vmClock.EndUpdate();
        await WaitForStatus(daemon, RawSegment.Synchronized, marker: 6, "Synchronized after the disruption was handled");

        Assert.All(duringTornUpdate, s => Assert.Equal(5ul, s.DisruptionMarker));
        Assert.Equal([ClockStatus.Synchronized, ClockStatus.Unknown], duringTornUpdate.Select(s => s.Status));
        var afterwards = recorder.States.Skip(duringTornUpdate.Count).ToList();
        Assert.Single(afterwards, s => s.Status == ClockStatus.Disrupted);
        Assert.Equal((ClockStatus.Disrupted, 6ul), (afterwards[0].Status, afterwards[0].DisruptionMarker));
        await daemon.WaitUntilAsync(() => daemon.Output.Count(l => l.Contains("Resetting chronyd's sources")) > resetsBefore, Patience,
            "the disruption's reset logged");
        Assert.Equal(resetsBefore + 1, daemon.Output.Count(l => l.Contains("Resetting chronyd's sources")));
    }
}
