using Akka.Actor;
using Akka.Event;
using ClockBound.Actors.StateMachine;

namespace ClockBound.Actors.Hosting;

/// <summary>
/// The root of the daemon's actors (<c>/user/clockbound</c>): creates the others in dependency order, hands each its
/// peers, and supervises them. It reports the children's refs once, through the optional <see cref="TaskCompletionSource{T}"/>
/// of its Props, so that the hosting layer can register them before the host has started (see <see cref="ClockBoundActorsExtensions"/>).
/// </summary>
/// <remarks>
/// <para>The clock-status actor and the chrony poller need each other (tracking results flow one way, <see cref="ResetChrony"/>
/// the other). Actor refs exist only once an actor is created, so the cycle is broken here without an Ask or a registration
/// message: the clock-status actor is given THIS actor as its <c>chronyPoller</c>, and this actor forwards
/// <see cref="ResetChrony"/> (rare: once per disruption) to the poller, created next with the clock-status ref. The
/// 10 Hz tracking traffic goes directly from the poller to the clock-status actor.</para>
/// <para>The I/O actors and the segment writer run under <see cref="Supervision.WithBackoff"/>. The clock-status actor is
/// restarted directly (it holds no resource). If the segment writer or the clock-status actor is gone for good, the daemon
/// is useless: the actor system is shut down so that the host exits and systemd restarts it.</para>
/// </remarks>
public sealed class ClockBoundActor : ReceiveActor
{
    /// <summary>Name of the root actor under <c>/user</c>.</summary>
    public const string Name = "clockbound";

    /// <summary>A child that fails more often than this within <see cref="RestartWindow"/> is stopped (a bug, not I/O).</summary>
    private const int MaxRestarts = 10;
    private static readonly TimeSpan RestartWindow = TimeSpan.FromMinutes(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _chronyPoller;

    public ClockBoundActor(ClockBoundSettings settings, PreviousRun previous, OpenedSegment? segment, Action? onReopenLogs,
        TaskCompletionSource<ClockBoundActorRefs>? created)
    {
        try
        {
            var segmentWriter = Context.ActorOf(
                Supervision.WithBackoff(SegmentWriterActor.Props(settings.ShmPath, segment), "segment-writer", settings, _log, Context.System.EventStream), "segment-writer");
            var clockStatus = Context.ActorOf(ClockStatusActor.Props(settings, previous, segmentWriter, chronyPoller: Self), "clock-status");
            Context.Watch(segmentWriter);
            Context.Watch(clockStatus);

            _chronyPoller = StartSupervised(ChronyPollerActor.Props(settings, clockStatus), "chrony-poller", settings);
            var vmClockWatcher = settings.ClockDisruptionSupportEnabled
                ? StartSupervised(VmClockWatcherActor.Props(settings, clockStatus), "vmclock-watcher", settings)
                : null;
            var phcReader = settings.PhcInterface is not null
                ? StartSupervised(PhcReaderActor.Props(settings, clockStatus), "phc-reader", settings)
                : null;
            var signalListener = StartSupervised(SignalListenerActor.Props(clockStatus, onReopenLogs), "signal-listener", settings);
            Context.ActorOf(NativeHeapTrimmerActor.Props(), NativeHeapTrimmerActor.Name);

            created?.TrySetResult(new ClockBoundActorRefs(
                segmentWriter, clockStatus, _chronyPoller, vmClockWatcher, phcReader, signalListener));
        }
        catch (Exception ex)
        {
            created?.TrySetException(ex);
            throw;
        }

        Receive<ResetChrony>(m => _chronyPoller.Forward(m));
        Receive<Terminated>(OnEssentialChildTerminated);
    }

    /// <summary>Props of the root; <paramref name="previous"/> is what the previous run left in the segment (the clock-status
    /// actor's start rule), <paramref name="segment"/> the segment the host opened (null: the writer opens it),
    /// <paramref name="created"/> (optional) receives the children's refs once they exist.</summary>
    public static Props Props(ClockBoundSettings settings, PreviousRun previous, OpenedSegment? segment = null,
        Action? onReopenLogs = null, TaskCompletionSource<ClockBoundActorRefs>? created = null) =>
        Akka.Actor.Props.Create(() => new ClockBoundActor(settings, previous, segment, onReopenLogs, created));

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(MaxRestarts, RestartWindow, _ => Directive.Restart);

    private IActorRef StartSupervised(Props child, string name, ClockBoundSettings settings) =>
        Context.ActorOf(Supervision.WithBackoff(child, name, settings, _log, Context.System.EventStream), name);

    private void OnEssentialChildTerminated(Terminated t)
    {
        _log.Error("{0} stopped for good; shutting the daemon down", t.ActorRef.Path);
        _ = CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.UnknownReason.Instance);
    }
}

/// <summary>The actors created by <see cref="ClockBoundActor"/>; the I/O actors are their back-off supervisors, which forward
/// every message to the current child. <see cref="VmClockWatcher"/> is null with clock-disruption support disabled,
/// <see cref="PhcReader"/> without a PHC interface.</summary>
public sealed record ClockBoundActorRefs(
    IActorRef SegmentWriter,
    IActorRef ClockStatus,
    IActorRef ChronyPoller,
    IActorRef? VmClockWatcher,
    IActorRef? PhcReader,
    IActorRef SignalListener);
