using Akka.Hosting;

namespace ClockBound.Actors.Hosting;

/// <summary>Akka.Hosting wiring of the daemon's actors.</summary>
public static class ClockBoundActorsExtensions
{
    /// <summary>
    /// Starts the daemon's actors under <c>/user/clockbound</c> (see <see cref="ClockBoundActor"/>): segment-writer,
    /// clock-status, chrony-poller, vmclock-watcher (unless clock-disruption support is disabled), phc-reader (only with a
    /// PHC interface), signal-listener. Each is registered in the <see cref="ActorRegistry"/> under its key type
    /// (<see cref="ClockStatusActorKey"/>, …); the root under <see cref="ClockBoundActorKey"/>.
    /// </summary>
    /// <param name="onReopenLogs">Run by the signal listener on SIGHUP.</param>
    public static AkkaConfigurationBuilder WithClockBoundActors(
        this AkkaConfigurationBuilder builder, ClockBoundSettings settings, Action? onReopenLogs = null) =>
        builder.WithActors((system, registry) =>
        {
            var root = system.ActorOf(ClockBoundActor.Props(settings, onReopenLogs, registry), ClockBoundActor.Name);
            registry.Register<ClockBoundActorKey>(root);
        });
}
