using Akka.Actor;
using Akka.Pattern;

namespace ClockBound.Actors;

/// <summary>The one place where the restart policy of the I/O actors is defined.</summary>
public static class Supervision
{
    /// <summary>
    /// Every failure restarts the child, including a failure in its constructor or <c>PreStart</c>
    /// (Akka's default decider would stop the child for <see cref="ActorInitializationException"/>,
    /// and a device that is briefly unreadable must not end the daemon's watch for good).
    /// Akka logs each failure at Error level with the child's path and the cause.
    /// </summary>
    private static readonly OneForOneStrategy AlwaysRestart =
        new(maxNrOfRetries: -1, withinTimeMilliseconds: -1, localOnlyDecider: _ => Directive.Restart, loggingEnabled: true);

    /// <summary>
    /// Props of a back-off supervisor around <paramref name="child"/> (created under <paramref name="name"/>): a failed child
    /// is stopped and started again after an exponential back-off with jitter, from
    /// <see cref="ClockBoundSettings.RestartBackoffMin"/> to <see cref="ClockBoundSettings.RestartBackoffMax"/>, randomised by
    /// <see cref="ClockBoundSettings.RestartBackoffRandomFactor"/>. A child that has run for the maximum back-off without
    /// failing starts again from the minimum. Messages sent to the supervisor are forwarded to the current child.
    /// </summary>
    public static Props WithBackoff(Props child, string name, ClockBoundSettings s) =>
        BackoffSupervisor.Props(
            Backoff.OnFailure(child, name, s.RestartBackoffMin, s.RestartBackoffMax, s.RestartBackoffRandomFactor, maxNrOfRetries: -1)
                .WithAutoReset(s.RestartBackoffMax)
                .WithSupervisorStrategy(AlwaysRestart));
}
