using System.Buffers.Binary;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ClockBound.Actors.Hosting;
using ClockBound.Actors.StateMachine;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>The root actor's wiring: which actors exist, under which names, and the ResetChrony route.</summary>
public sealed class ClockBoundActorTests(SynchronisedChronyd realChronyd) : TestKit, IClassFixture<SynchronisedChronyd>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private readonly TempDirectory _dir = new("cbroot");

    /// <summary>Disruption support is off in these specs, so what the previous run left does not matter.</summary>
    private static readonly PreviousRun FirstStart = PreviousRun.Unusable("no segment");

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
    public async Task Root_must_start_the_core_actors_under_kebab_case_names()
    {
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath);

        var actors = await StartRoot(Settings);

        Assert.Equal("/user/clockbound/segment-writer", PathOf(actors.SegmentWriter));
        Assert.Equal("/user/clockbound/clock-status", PathOf(actors.ClockStatus));
        Assert.Equal("/user/clockbound/chrony-poller", PathOf(actors.ChronyPoller));
        Assert.Equal("/user/clockbound/signal-listener", PathOf(actors.SignalListener));
        Assert.Null(actors.VmClockWatcher); // disruption support disabled
        Assert.Null(actors.PhcReader); // no PHC interface
    }

    [Fact]
    public async Task Root_must_start_the_VMClock_watcher_and_PHC_reader_when_configured()
    {
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath);
        WriteVmClock(Settings.VmClockPath);

        var actors = await StartRoot(Settings with { ClockDisruptionSupportEnabled = true, PhcInterface = "ens5", PhcReferenceId = 0x50484330 });

        Assert.Equal("/user/clockbound/vmclock-watcher", PathOf(actors.VmClockWatcher!));
        Assert.Equal("/user/clockbound/phc-reader", PathOf(actors.PhcReader!));
    }

    [Fact]
    public void Root_must_route_ResetChrony_to_the_chrony_poller()
    {
        // A real chronyd: its own log shows that its sources were reset.
        var pair = realChronyd.Sandbox;
        int resetsBefore = ResetsLogged(pair);
        var settings = Settings with { ChronySocketPath = pair.ClientSocketPath, ChronyClientSocketDirectory = null };
        var root = Sys.ActorOf(ClockBoundActor.Props(settings, FirstStart), ClockBoundActor.Name);

        root.Tell(new ResetChrony(1));

        AwaitCondition(() => ResetsLogged(pair) > resetsBefore, TimeSpan.FromSeconds(30));
    }

    private static int ResetsLogged(ChronydSandbox pair) => ChronydProcess.ResetsIn(pair.Client.ReadLog());

    private async Task<ClockBoundActorRefs> StartRoot(ClockBoundSettings settings)
    {
        var created = new TaskCompletionSource<ClockBoundActorRefs>(TaskCreationOptions.RunContinuationsAsynchronously);
        Sys.ActorOf(ClockBoundActor.Props(settings, FirstStart, created: created), ClockBoundActor.Name);
        return await created.Task.WaitAsync(Patience);
    }

    private static string PathOf(IActorRef actor) => actor.Path.ToStringWithoutAddress();

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
