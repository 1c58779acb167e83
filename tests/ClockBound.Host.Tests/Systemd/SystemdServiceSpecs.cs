using System.Globalization;
using ClockBound.Host.Tests.Operations;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Host.Tests.Systemd;

/// <summary>
/// The daemon's main way of life: installed by scripts/install.sh and run by a real systemd with the shipped unit, next
/// to chronyd as on a Debian host (see <see cref="ServiceWorld"/>).
/// </summary>
[Collection(SystemdCollection.Name)]
public sealed class SystemdServiceSpecs(PublishedInstall published, ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Enable_now_must_return_once_the_daemon_is_ready_running_as_chronyds_user_and_serving_other_users()
    {
        await using var world = await ServiceWorld.StartAsync(published.PublishedDirectory);

        await world.InstallAndEnableAsync();

        // Type=notify: systemctl start returned only after READY=1, which follows the first write.
        var segment = world.Segment;
        Assert.NotNull(segment);
        Assert.True(segment.Generation >= 2, $"generation {segment.Generation}: not yet written when start returned");
        Assert.Equal("active", await world.Systemd.PropertyAsync(ServiceWorld.Unit, "ActiveState"));
        Assert.Equal("running", await world.Systemd.PropertyAsync(ServiceWorld.Unit, "SubState"));
        Assert.Equal("enabled", (await world.Systemd.RunAsync("systemctl", "is-enabled", ServiceWorld.Unit)).Stdout.Trim());
        var stat = (await world.Systemd.RunAsync("stat", "-c", "%a %U %G", ServiceWorld.ShmInside)).EnsureSuccess().Stdout.Trim();
        Assert.Equal("644 _chrony _chrony", stat);

        await world.WaitForSegmentAsync(s => s.ClockStatus == RawSegment.Synchronized, "Synchronized");
        var now = await world.Systemd.RunAsync("runuser", "-u", "nobody", "--", "/usr/local/bin/clockbound", "now");
        output.WriteLine(now.Stdout + now.Stderr);
        Assert.Equal(0, now.ExitCode);
        Assert.Contains("Synchronized", now.Stdout);
        var journal = await world.Systemd.JournalAsync(ServiceWorld.Unit);
        output.WriteLine(journal);
        Assert.Contains("/run/chrony/chronyd.sock", journal);
    }
}
