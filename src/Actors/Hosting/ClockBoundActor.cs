using Akka.Actor;
using Akka.Event;
using Akka.Hosting;

namespace ClockBound.Actors.Hosting;

/// <summary>
/// The root of the daemon's actors (<c>/user/clockbound</c>): creates the others in dependency order, hands each its
/// peers, registers them in the <see cref="IActorRegistry"/>, and supervises them.
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
    private readonly IActorRegistry? _registry;
    private readonly IActorRef _chronyPoller;

    public ClockBoundActor(ClockBoundSettings settings, Action? onReopenLogs, IActorRegistry? registry)
    {
        _registry = registry;

        var segmentWriter = Start<SegmentWriterActorKey>(
            Supervision.WithBackoff(SegmentWriterActor.Props(settings.ShmPath), "segment-writer", settings), "segment-writer");
        var clockStatus = Start<ClockStatusActorKey>(
            ClockStatusActor.Props(settings, segmentWriter, chronyPoller: Self), "clock-status");
        Context.Watch(segmentWriter);
        Context.Watch(clockStatus);

        _chronyPoller = StartSupervised<ChronyPollerActorKey>(
            ChronyPollerActor.Props(settings, clockStatus), "chrony-poller", settings);
        if (settings.ClockDisruptionSupportEnabled)
        {
            StartSupervised<VmClockWatcherActorKey>(
                VmClockWatcherActor.Props(settings, clockStatus), "vmclock-watcher", settings);
        }

        if (settings.PhcInterface is not null)
        {
            StartSupervised<PhcReaderActorKey>(PhcReaderActor.Props(settings, clockStatus), "phc-reader", settings);
        }

        StartSupervised<SignalListenerActorKey>(
            SignalListenerActor.Props(clockStatus, onReopenLogs), "signal-listener", settings);

        Receive<ResetChrony>(m => _chronyPoller.Forward(m));
        Receive<Terminated>(OnEssentialChildTerminated);
    }

    /// <summary>Props of the root; <paramref name="registry"/> (optional) receives every child under its key.</summary>
    public static Props Props(ClockBoundSettings settings, Action? onReopenLogs = null, IActorRegistry? registry = null) =>
        Akka.Actor.Props.Create(() => new ClockBoundActor(settings, onReopenLogs, registry));

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(MaxRestarts, RestartWindow, _ => Directive.Restart);

    private IActorRef StartSupervised<TKey>(Props child, string name, ClockBoundSettings settings) =>
        Start<TKey>(Supervision.WithBackoff(child, name, settings), name);

    private IActorRef Start<TKey>(Props props, string name)
    {
        var actor = Context.ActorOf(props, name);
        // overwrite: a restarted root creates its children again.
        _registry?.Register<TKey>(actor, overwrite: true);
        return actor;
    }

    private void OnEssentialChildTerminated(Terminated t)
    {
        _log.Error("{0} stopped for good; shutting the daemon down", t.ActorRef.Path);
        _ = CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.UnknownReason.Instance);
    }
}
