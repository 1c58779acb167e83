using Akka.Actor;
using Akka.Event;
using Akka.Pattern;

namespace ClockBound.Actors;

/// <summary>The one place where the restart policy of the I/O actors is defined.</summary>
public static class Supervision
{
    /// <summary>
    /// Props of a back-off supervisor around <paramref name="child"/> (created under <paramref name="name"/>): a failed child
    /// is stopped and started again after an exponential back-off with jitter, from
    /// <see cref="ClockBoundSettings.RestartBackoffMin"/> to <see cref="ClockBoundSettings.RestartBackoffMax"/>, randomised by
    /// <see cref="ClockBoundSettings.RestartBackoffRandomFactor"/>. A child that has run for the maximum back-off without
    /// failing starts again from the minimum. Messages sent to the supervisor are forwarded to the current child.
    /// </summary>
    /// <remarks>
    /// Every failure restarts the child, including a failure in its constructor or <c>PreStart</c> (Akka's default
    /// decider would stop the child for <see cref="ActorInitializationException"/>, and a device that is briefly
    /// unreadable must not end the daemon's watch for good). Akka logs each failure at Error level with the child's path
    /// and the cause; with <paramref name="log"/>, each restart is also logged as "NAME restart #N" with the cause,
    /// numbered since the daemon started (the count lives in these Props, so it survives the restarts it counts); with
    /// <paramref name="events"/>, each restart is also published as <see cref="ActorRestarted"/> (metrics).
    /// </remarks>
    public static Props WithBackoff(Props child, string name, ClockBoundSettings s, ILoggingAdapter? log = null,
        EventStream? events = null)
    {
        int restarts = 0;
        var alwaysRestart = new OneForOneStrategy(maxNrOfRetries: -1, withinTimeMilliseconds: -1, localOnlyDecider: cause =>
        {
            var n = Interlocked.Increment(ref restarts);
            var root = cause is ActorInitializationException { InnerException: { } inner } ? inner : cause;
            log?.Warning("{0} failed ({1}: {2}); restart #{3} after a back-off of at most {4}",
                name, root.GetType().Name, root.Message, n, s.RestartBackoffMax);
            events?.Publish(new ActorRestarted(name, n, $"{root.GetType().Name}: {root.Message}"));
            return Directive.Restart;
        });
        return BackoffSupervisor.Props(
            Backoff.OnFailure(child, name, s.RestartBackoffMin, s.RestartBackoffMax, s.RestartBackoffRandomFactor, maxNrOfRetries: -1)
                .WithAutoReset(s.RestartBackoffMax)
                .WithSupervisorStrategy(alwaysRestart));
    }
}
