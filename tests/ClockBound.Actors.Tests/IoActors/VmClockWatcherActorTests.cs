using System.Buffers.Binary;
using System.Diagnostics;
using Akka.TestKit.Xunit2;
using ClockBound.Io.VmClock;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>The watcher on a regular file with the VMClock layout (the device cannot exist here), read by the real reader.</summary>
public sealed class VmClockWatcherActorTests : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly TempDirectory _dir = new("cbvmc");

    private ClockBoundSettings Settings => new()
    {
        VmClockPath = _dir.Combine("vmclock0"),
        VmClockPollInterval = TimeSpan.FromMilliseconds(5),
        VmClockHeartbeatInterval = TimeSpan.FromMilliseconds(50),
        RestartBackoffMin = TimeSpan.FromMilliseconds(10),
        RestartBackoffMax = TimeSpan.FromMilliseconds(100),
    };

    [Fact]
    public void Watcher_must_report_the_marker_at_start_and_every_change()
    {
        WriteVmClock(seqCount: 2, marker: 7);
        var clockStatus = CreateTestProbe();
        Sys.ActorOf(VmClockWatcherActor.Props(Settings, clockStatus));
        clockStatus.ExpectMsg(new VmClockObserved(7), Patience);

        WriteVmClock(seqCount: 4, marker: 8);

        clockStatus.FishForMessage(m => m.Equals(new VmClockObserved(8)), Patience);
    }

    [Fact]
    public void Watcher_must_repeat_an_unchanged_marker_at_the_heartbeat_and_not_at_every_poll()
    {
        WriteVmClock(seqCount: 2, marker: 42);
        var clockStatus = CreateTestProbe();
        var started = Stopwatch.GetTimestamp();
        Sys.ActorOf(VmClockWatcherActor.Props(Settings, clockStatus));

        // The unchanged marker keeps coming (the heartbeat)...
        for (var i = 0; i < 3; i++) clockStatus.ExpectMsg(new VmClockObserved(42), Patience);
        var received = 3 + clockStatus.ReceiveWhile(TimeSpan.FromMilliseconds(200), m => m).Count;

        // ...but at most once per heartbeat interval (plus the first report and the one that says it settled), not once
        // per 5 ms poll.
        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.InRange(received, 3, (int)(elapsed / Settings.VmClockHeartbeatInterval) + 2);
    }

    [Fact]
    public void Watcher_must_report_a_changed_marker_again_once_it_has_settled_long_before_the_heartbeat()
    {
        WriteVmClock(seqCount: 2, marker: 42);
        var clockStatus = CreateTestProbe();
        // A heartbeat far beyond the test: every report seen here is a change or a settling.
        var settings = Settings with { VmClockHeartbeatInterval = TimeSpan.FromMinutes(10) };
        Sys.ActorOf(VmClockWatcherActor.Props(settings, clockStatus));
        clockStatus.ExpectMsg(new VmClockObserved(42), Patience);
        clockStatus.ExpectMsg(new VmClockObserved(42), Patience); // settled: three unchanged reads

        WriteVmClock(seqCount: 4, marker: 43);
        clockStatus.ExpectMsg(new VmClockObserved(43), Patience);
        clockStatus.ExpectMsg(new VmClockObserved(43), Patience);
        // Once, not at every poll after it.
        clockStatus.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Watcher_must_report_a_torn_device_as_unavailable_and_recover_after_its_restart()
    {
        WriteVmClock(seqCount: 2, marker: 1);
        var clockStatus = CreateTestProbe();
        var settings = Settings;
        Sys.ActorOf(Supervision.WithBackoff(VmClockWatcherActor.Props(settings, clockStatus), "vmclock-watcher", settings));
        clockStatus.ExpectMsg(new VmClockObserved(1), Patience);

        WriteVmClock(seqCount: 5, marker: 2); // an odd seq_count left in place: an update that never finishes

        var unavailable = (VmClockUnavailable)clockStatus.FishForMessage(m => m is VmClockUnavailable, Patience);
        Assert.Contains(settings.VmClockPath, unavailable.Reason);

        WriteVmClock(seqCount: 6, marker: 2);
        clockStatus.FishForMessage(m => m.Equals(new VmClockObserved(2)), Patience);
    }

    [Fact]
    public void Watcher_must_report_a_truncated_file_as_unavailable_and_recover_after_its_restart()
    {
        WriteVmClock(seqCount: 2, marker: 1);
        var clockStatus = CreateTestProbe();
        var settings = Settings;
        Sys.ActorOf(Supervision.WithBackoff(VmClockWatcherActor.Props(settings, clockStatus), "vmclock-watcher", settings));
        clockStatus.ExpectMsg(new VmClockObserved(1), Patience);

        File.WriteAllBytes(settings.VmClockPath, new byte[16]); // truncated under the mapping

        var unavailable = (VmClockUnavailable)clockStatus.FishForMessage(m => m is VmClockUnavailable, Patience);
        Assert.Contains(settings.VmClockPath, unavailable.Reason);

        WriteVmClock(seqCount: 2, marker: 9);
        clockStatus.FishForMessage(m => m.Equals(new VmClockObserved(9)), Patience);
    }

    [Fact]
    public void Watcher_must_be_retried_under_supervision_until_the_device_can_be_opened()
    {
        var clockStatus = CreateTestProbe();
        var settings = Settings;
        Sys.ActorOf(Supervision.WithBackoff(VmClockWatcherActor.Props(settings, clockStatus), "vmclock-watcher", settings));
        clockStatus.ExpectNoMsg(TimeSpan.FromMilliseconds(100));

        WriteVmClock(seqCount: 2, marker: 3);

        clockStatus.ExpectMsg(new VmClockObserved(3), Patience);
    }

    /// <summary>Writes the 104-byte VMClock structure (docs/vmclock.md) in place, as the hypervisor would.</summary>
    private void WriteVmClock(uint seqCount, ulong marker)
    {
        var page = new byte[VmClockSnapshot.Size104];
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(0), VmClockSnapshot.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(4), VmClockSnapshot.Size104);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(8), 1); // version
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(12), seqCount);
        BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(16), marker);
        using var file = File.OpenHandle(Settings.VmClockPath, FileMode.OpenOrCreate, FileAccess.Write);
        RandomAccess.Write(file, page, fileOffset: 0);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _dir.Dispose();
    }
}
