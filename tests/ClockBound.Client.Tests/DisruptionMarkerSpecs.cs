using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Client.Tests;

/// <summary>Spec step 6: with disruption support enabled, a VMClock marker that differs from the segment's means Unknown.</summary>
public sealed class DisruptionMarkerSpecs : IDisposable
{
    private readonly Segments _segments = new();

    public void Dispose() => _segments.Dispose();

    [Fact]
    public void Now_must_keep_the_status_while_the_markers_are_equal()
    {
        using var vmClock = FakeVmClock.Create(_segments.VmClockPath, marker: 41);
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 41, disruptionSupport: true));
        using var client = _segments.Open();
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);
    }

    [Fact]
    public void Now_must_report_Unknown_once_the_VMClock_marker_changes_until_the_daemon_catches_up()
    {
        using var vmClock = FakeVmClock.Create(_segments.VmClockPath, marker: 41);
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 41, disruptionSupport: true));
        using var client = _segments.Open();
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);

        ulong marker = vmClock.BumpMarker(); // a live migration: the hypervisor bumps the marker
        var now = client.Now();
        Assert.Equal(ClockStatus.Unknown, now.Status);
        Assert.False(now.IsUsable);

        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: marker, disruptionSupport: true)); // the daemon caught up
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);
    }

    [Fact]
    public void Now_must_report_Unknown_while_the_VMClock_is_mid_update()
    {
        using var vmClock = FakeVmClock.Create(_segments.VmClockPath, marker: 41);
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 41, disruptionSupport: true));
        using var client = _segments.Open();
        vmClock.BeginTornUpdate();
        Assert.Equal(ClockStatus.Unknown, client.Now().Status);
        vmClock.EndUpdate();
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);
    }

    [Fact]
    public void Now_must_ignore_the_VMClock_while_disruption_support_is_disabled()
    {
        // No VMClock file at all, and a segment marker that no device would match: neither matters.
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 99, disruptionSupport: false));
        using var client = _segments.Open();
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);
        Assert.False(File.Exists(_segments.VmClockPath));
    }

    [Fact]
    public void Now_must_open_the_VMClock_when_disruption_support_becomes_enabled()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 5, disruptionSupport: false));
        using var client = _segments.Open();
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);

        using var vmClock = FakeVmClock.Create(_segments.VmClockPath, marker: 6);
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 5, disruptionSupport: true));
        Assert.Equal(ClockStatus.Unknown, client.Now().Status); // opened now: 6 != 5

        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 6, disruptionSupport: true));
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);
    }

    [Fact]
    public void Now_must_fail_with_Syscall_ENOENT_naming_the_device_when_support_is_enabled_and_there_is_no_VMClock()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, disruptionSupport: true));
        using var client = _segments.Open();
        var e = Assert.Throws<ClockBoundException>(() => client.Now());
        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(2, e.Errno);
        Assert.Equal(_segments.VmClockPath, e.Path);
        Assert.Contains(_segments.VmClockPath, e.Message);
    }

    [Fact]
    public void Now_must_fail_with_Syscall_naming_the_device_when_the_VMClock_is_not_a_VMClock()
    {
        File.WriteAllBytes(_segments.VmClockPath, new byte[4096]); // zeros: no "VCLK" magic
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, disruptionSupport: true));
        using var client = _segments.Open();
        var e = Assert.Throws<ClockBoundException>(() => client.Now());
        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.NotEqual(0, e.Errno);
        Assert.Contains(_segments.VmClockPath, e.Message);
    }

    [Fact]
    public void Now_must_compare_markers_on_a_VMClock_that_cannot_shrink_like_the_device()
    {
        // A shrink-sealed memfd is read without the per-read length check, as the device is.
        using var vmClock = SealedVmClockFile.Create(marker: 12);
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 12, disruptionSupport: true));
        using var client = ClockBoundClient.Open(_segments.ShmPath, vmClock.Path);
        Assert.Equal(ClockStatus.Synchronized, client.Now().Status);

        vmClock.SetMarker(13);
        Assert.Equal(ClockStatus.Unknown, client.Now().Status);
    }
}
