using System.Buffers.Binary;
using Akka.Actor;
using Akka.Hosting;
using Akka.TestKit.Xunit2;
using ClockBound.Actors.Hosting;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>The root actor's wiring: which actors exist, under which names and registry keys, and the ResetChrony route.</summary>
public sealed class ClockBoundActorTests : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly TempDirectory _dir = new("cbroot");

    private ClockBoundSettings Settings => new()
    {
        ShmPath = _dir.Combine("shm0"),
        ChronySocketPath = _dir.Combine("chronyd.sock"),
        ChronyClientSocketDirectory = _dir.Path,
        VmClockPath = _dir.Combine("vmclock0"),
        SysfsRoot = _dir.Path,
        ChronyPollInterval = TimeSpan.FromMilliseconds(20),
        ClockDisruptionSupportEnabled = false,
    };

    [Fact]
    public async Task Root_must_start_the_core_actors_under_kebab_case_names_and_register_them()
    {
        using var chronyd = new FakeChronyd(Settings.ChronySocketPath);
        var registry = new ActorRegistry();

        Sys.ActorOf(ClockBoundActor.Props(Settings, registry: registry), ClockBoundActor.Name);

        Assert.Equal("/user/clockbound/segment-writer", await PathOf<SegmentWriterActorKey>(registry));
        Assert.Equal("/user/clockbound/clock-status", await PathOf<ClockStatusActorKey>(registry));
        Assert.Equal("/user/clockbound/chrony-poller", await PathOf<ChronyPollerActorKey>(registry));
        Assert.Equal("/user/clockbound/signal-listener", await PathOf<SignalListenerActorKey>(registry));
        Assert.False(registry.TryGet<VmClockWatcherActorKey>(out _), "no VMClock watcher with disruption support disabled");
        Assert.False(registry.TryGet<PhcReaderActorKey>(out _), "no PHC reader without a PHC interface");
    }

    [Fact]
    public async Task Root_must_start_the_VMClock_watcher_and_PHC_reader_when_configured()
    {
        using var chronyd = new FakeChronyd(Settings.ChronySocketPath);
        WriteVmClock(Settings.VmClockPath);
        var settings = Settings with { ClockDisruptionSupportEnabled = true, PhcInterface = "ens5", PhcReferenceId = 0x50484330 };
        var registry = new ActorRegistry();

        Sys.ActorOf(ClockBoundActor.Props(settings, registry: registry), ClockBoundActor.Name);

        Assert.Equal("/user/clockbound/vmclock-watcher", await PathOf<VmClockWatcherActorKey>(registry));
        Assert.Equal("/user/clockbound/phc-reader", await PathOf<PhcReaderActorKey>(registry));
    }

    [Fact]
    public void Root_must_route_ResetChrony_to_the_chrony_poller()
    {
        using var chronyd = new FakeChronyd(Settings.ChronySocketPath);
        var root = Sys.ActorOf(ClockBoundActor.Props(Settings), ClockBoundActor.Name);

        root.Tell(ResetChrony.Instance);

        AwaitCondition(() => chronyd.CountOf(FakeChronyd.Burst) > 0, Patience);
        Assert.True(chronyd.CountOf(FakeChronyd.ResetSources) > 0);
    }

    private static async Task<string> PathOf<TKey>(ActorRegistry registry)
    {
        using var timeout = new CancellationTokenSource(Patience);
        var actor = await registry.GetAsync<TKey>(timeout.Token);
        return actor.Path.ToStringWithoutAddress();
    }

    private static void WriteVmClock(string path)
    {
        var page = new byte[104];
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(0), 0x4B4C4356); // "VCLK"
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(4), 104);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(8), 1);
        File.WriteAllBytes(path, page);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _dir.Dispose();
    }
}
