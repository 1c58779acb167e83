using Akka.Actor;
using Akka.TestKit.Xunit2;
using ClockBound.Actors.Metrics;
using ClockBound.Io;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.Tests.Metrics;

/// <summary>The failure counters follow the events the metrics actor subscribes to, each series under its labels.</summary>
public sealed class MetricsActorSpecs : TestKit
{
    private readonly Prometheus.CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();

    [Fact]
    public async Task Failure_counters_must_count_each_failure_under_its_labels()
    {
        var actor = Sys.ActorOf(MetricsActor.Props(new ClockBoundMetrics(_registry)));
        await actor.Ask<ActorIdentity>(new Identify(null), RemainingOrDefault); // subscribed (PreStart has run)

        var at = new Timespec(1_000, 0);
        Publish(
            new ChronyPollFailed(at, ChronyErrorKind.Timeout, "no reply"),
            new ChronyPollFailed(at, ChronyErrorKind.Timeout, "no reply"),
            new ChronyPollFailed(at, ChronyErrorKind.SocketMissing, "no socket"),
            new ClockStatusChanged(ClockStatus.Synchronized, ClockStatus.Disrupted, "marker 7 -> 8"),
            new ClockStatusChanged(ClockStatus.Disrupted, ClockStatus.Unknown, "reset completed"), // not a disruption
            new ChronyResetCompleted(1),
            new ChronyResetCompleted(2),
            new ChronyResetCompleted(3),
            new ActorRestarted("chrony-poller", 1, "boom"),
            new ActorRestarted("chrony-poller", 2, "boom"),
            new ActorRestarted("phc-reader", 1, "boom"));
        // The events are in the actor's mailbox ahead of this: once it answers, it has handled them all.
        await actor.Ask<ActorIdentity>(new Identify(null), RemainingOrDefault);

        var values = await MetricsScrape.ValuesAsync(_registry);
        Assert.Equal(2, values["clockbound_chrony_poll_failures_total{kind=\"Timeout\"}"]);
        Assert.Equal(1, values["clockbound_chrony_poll_failures_total{kind=\"SocketMissing\"}"]);
        Assert.Equal(1, values["clockbound_disruptions_total"]);
        Assert.Equal(3, values["clockbound_chrony_resets_total"]);
        Assert.Equal(2, values["clockbound_actor_restarts_total{actor=\"chrony-poller\"}"]);
        Assert.Equal(1, values["clockbound_actor_restarts_total{actor=\"phc-reader\"}"]);
    }

    private void Publish(params object[] events)
    {
        foreach (var e in events)
            Sys.EventStream.Publish(e);
    }
}
