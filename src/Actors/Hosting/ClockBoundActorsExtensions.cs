using Akka.Hosting;
using ClockBound.Actors.StateMachine;

namespace ClockBound.Actors.Hosting;

/// <summary>Akka.Hosting wiring of the daemon's actors.</summary>
public static class ClockBoundActorsExtensions
{
    /// <summary>
    /// Starts the daemon's actors under <c>/user/clockbound</c> (see <see cref="ClockBoundActor"/>): segment-writer,
    /// clock-status, chrony-poller, vmclock-watcher (unless clock-disruption support is disabled), phc-reader (only with a
    /// PHC interface), signal-listener, native-heap-trimmer. Each is registered in the <see cref="ActorRegistry"/> under its key type
    /// (<see cref="ClockStatusActorKey"/>, …); the root under <see cref="ClockBoundActorKey"/>.
    /// </summary>
    /// <param name="previous">What the previous run left in the segment, read before anything was written.</param>
    /// <param name="segment">The segment the host opened at start, for the segment writer to take over (null: it opens it).</param>
    /// <param name="onReopenLogs">Run by the signal listener on SIGHUP.</param>
    public static AkkaConfigurationBuilder WithClockBoundActors(this AkkaConfigurationBuilder builder, ClockBoundSettings settings,
        PreviousRun previous, OpenedSegment? segment = null, Action? onReopenLogs = null) =>
        builder.WithActors(async (system, registry) =>
        {
            // The root creates its children asynchronously (actor constructors run on the dispatcher). Registering them
            // here, before the host's start completes, means no consumer ever waits on a registration in flight
            // (ActorRegistry.GetAsync can miss a registration that races with it).
            var created = new TaskCompletionSource<ClockBoundActorRefs>(TaskCreationOptions.RunContinuationsAsynchronously);
            var root = system.ActorOf(ClockBoundActor.Props(settings, previous, segment, onReopenLogs, created), ClockBoundActor.Name);
            registry.Register<ClockBoundActorKey>(root);

            var actors = await created.Task.ConfigureAwait(false);
            registry.Register<SegmentWriterActorKey>(actors.SegmentWriter);
            registry.Register<ClockStatusActorKey>(actors.ClockStatus);
            registry.Register<ChronyPollerActorKey>(actors.ChronyPoller);
            if (actors.VmClockWatcher is { } vmClockWatcher) registry.Register<VmClockWatcherActorKey>(vmClockWatcher);
            if (actors.PhcReader is { } phcReader) registry.Register<PhcReaderActorKey>(phcReader);
            registry.Register<SignalListenerActorKey>(actors.SignalListener);
        });
}
