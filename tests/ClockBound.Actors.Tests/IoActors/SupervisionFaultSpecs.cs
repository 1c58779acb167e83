using Akka.Actor;
using Akka.Pattern;
using Akka.TestKit.Xunit2;
using ClockBound.Actors.Hosting;
using ClockBound.Actors.StateMachine;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>
/// The daemon's real actor hierarchy (<see cref="ClockBoundActor"/>) against a real chronyd pair, a real segment file, a
/// VMClock file and a sysfs tree for the PHC: an exception injected into each I/O actor (<see cref="InjectFault"/>, a
/// test-only message) gets it restarted after a back-off, the restart is logged with its number, and the segment keeps
/// being published with fresh data.
/// </summary>
[Collection(ProcessSignalsCollection.Name)]
public sealed class SupervisionFaultSpecs : TestKit, IAsyncLifetime
{
    private const string Interface = "ens5";
    private const string PciSlot = "0000:00:05.0";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new("cbsup");
    private ChronydSandbox _chronyd = null!;
    private FakeVmClock _vmClock = null!;

    public async Task InitializeAsync()
    {
        _chronyd = await ChronydSandbox.StartPairAsync();
        await _chronyd.WaitSynchronisedAsync(Patience);
        _vmClock = FakeVmClock.Create(_dir.Combine("vmclock0"), marker: 7);
        var device = Directory.CreateDirectory(_dir.Combine("sys", "class", "net", Interface, "device")).FullName;
        File.WriteAllText(Path.Combine(device, "uevent"), $"DRIVER=ena\nPCI_SLOT_NAME={PciSlot}\n");
        var pci = Directory.CreateDirectory(_dir.Combine("sys", "bus", "pci", "devices", PciSlot)).FullName;
        File.WriteAllText(Path.Combine(pci, "phc_error_bound"), "1000\n");
    }

    public async Task DisposeAsync()
    {
        _vmClock.Dispose();
        await _chronyd.DisposeAsync();
        _dir.Dispose();
    }

    private ClockBoundSettings Settings => new()
    {
        ShmPath = _dir.Combine("shm0"),
        ChronySocketPath = _chronyd.ClientSocketPath,
        VmClockPath = _vmClock.Path,
        SysfsRoot = _dir.Path,
        PhcInterface = Interface,
        PhcReferenceId = 0x50484330, // "PHC0": not chronyd's reference here, so the PHC bound is read but not added
        MaxDriftPpb = 50_000,
        RestartBackoffMin = TimeSpan.FromMilliseconds(20),
        RestartBackoffMax = TimeSpan.FromMilliseconds(500),
    };

    [Fact]
    public async Task Each_IO_actor_must_be_restarted_after_an_injected_fault_with_the_restart_logged_while_publishing_continues()
    {
        var created = new TaskCompletionSource<ClockBoundActorRefs>(TaskCreationOptions.RunContinuationsAsynchronously);
        Sys.ActorOf(ClockBoundActor.Props(Settings, PreviousRun.Unusable("no segment"), created: created), ClockBoundActor.Name);
        var actors = await created.Task.WaitAsync(Patience);
        await SynchronizedWithAsOfAfter(long.MinValue);

        var supervised = new (string Name, IActorRef Supervisor)[]
        {
            ("chrony-poller", actors.ChronyPoller),
            ("vmclock-watcher", actors.VmClockWatcher!),
            ("phc-reader", actors.PhcReader!),
            ("signal-listener", actors.SignalListener),
            ("segment-writer", actors.SegmentWriter),
        };
        foreach (var (name, supervisor) in supervised)
            await InjectAndExpectRestart(name, supervisor, restartNumber: 1);

        // The count survives the restarts it counts.
        await InjectAndExpectRestart("chrony-poller", actors.ChronyPoller, restartNumber: 2);
        await InjectAndExpectRestart("chrony-poller", actors.ChronyPoller, restartNumber: 3);
    }

    private async Task InjectAndExpectRestart(string name, IActorRef supervisor, int restartNumber)
    {
        var before = await CurrentChild(supervisor);
        var asOfBefore = AsOfNanoseconds(RawSegment.TryRead(Settings.ShmPath) ?? throw new InvalidOperationException("no segment"));

        // Akka logs the failure with its cause; the supervision logs the restart with its number.
        EventFilter.Exception<InjectedFaultException>(contains: $"injected fault: {name}").ExpectOne(Patience,
            () => EventFilter.Warning(contains: $"{name} failed (InjectedFaultException: injected fault: {name}); restart #{restartNumber} after a back-off")
                .ExpectOne(Patience, () => supervisor.Tell(new InjectFault(name))));

        await AwaitConditionAsync(async () => await CurrentChild(supervisor) is { } now && !now.Equals(before), Patience,
            $"a new {name} after the back-off");
        // Publishing goes on with fresh chrony data (a newer as_of), whichever actor failed.
        await SynchronizedWithAsOfAfter(asOfBefore);
    }

    private async Task<IActorRef?> CurrentChild(IActorRef supervisor) =>
        (await supervisor.Ask<BackoffSupervisor.CurrentChild>(BackoffSupervisor.GetCurrentChild.Instance, Patience)).Ref;

    private async Task SynchronizedWithAsOfAfter(long asOfNanoseconds) =>
        await AwaitConditionAsync(() => Task.FromResult(RawSegment.TryRead(Settings.ShmPath) is
            { ClockStatus: RawSegment.Synchronized } s && AsOfNanoseconds(s) > asOfNanoseconds && s.DisruptionMarker == 7), Patience,
            $"a Synchronized segment with as_of after {asOfNanoseconds} ns");

    private static long AsOfNanoseconds(RawSegment s) => s.AsOfSec * 1_000_000_000 + s.AsOfNsec;
}
