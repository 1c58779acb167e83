using Akka.Actor;
using ClockBound.Io.Phc;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.Metrics;

/// <summary>Keeps <see cref="ClockBoundMetrics"/> up to date from the event stream; only started with --metrics-listen.</summary>
public sealed class MetricsActor : ReceiveActor
{
    private readonly ClockBoundMetrics _metrics;
    private string[]? _referenceLabels;
    private long _writes;

    public MetricsActor(ClockBoundMetrics metrics)
    {
        _metrics = metrics;
        Receive<SegmentWritten>(OnSegmentWritten);
        Receive<ChronyTracked>(OnChronyTracked);
        Receive<ChronyPollFailed>(f => _metrics.PollFailures.WithLabels(f.Kind.ToString()).Inc());
        Receive<ChronyResetCompleted>(_ => _metrics.ChronyResets.Inc());
        Receive<ClockStatusChanged>(c => { if (c.To == ClockStatus.Disrupted) _metrics.Disruptions.Inc(); });
        Receive<ActorRestarted>(r => _metrics.Restarts.WithLabels(r.ActorName).Inc());
    }

    public static Props Props(ClockBoundMetrics metrics) => Akka.Actor.Props.Create(() => new MetricsActor(metrics));

    protected override void PreStart()
    {
        foreach (var type in (Type[])[typeof(SegmentWritten), typeof(ChronyTracked), typeof(ChronyPollFailed),
                     typeof(ChronyResetCompleted), typeof(ClockStatusChanged), typeof(ActorRestarted)])
        {
            Context.System.EventStream.Subscribe(Self, type);
        }
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void OnSegmentWritten(SegmentWritten written)
    {
        _metrics.Publish(new ClockBoundMetrics.PublishedSegment(
            written.Bound.BoundNanoseconds, (int)written.Status, written.Generation, ++_writes));
    }

    private void OnChronyTracked(ChronyTracked tracked)
    {
        var t = tracked.Tracking;
        _metrics.CurrentCorrection.Set(t.CurrentCorrection);
        _metrics.RootDelay.Set(t.RootDelay);
        _metrics.RootDispersion.Set(t.RootDispersion);
        _metrics.Frequency.Set(t.Frequency);
        _metrics.Skew.Set(t.Skew);
        _metrics.UpdateInterval.Set(t.LastUpdateInterval);
        _metrics.PollRoundTrip.Observe(tracked.RoundTrip.TotalSeconds);
        string refId = $"{t.ReferenceId:X8}", stratum = t.Stratum.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (_referenceLabels is not { } old || old[0] != refId || old[1] != stratum)
        {
            // One series for the current reference: the previous one is removed rather than left at 1.
            if (_referenceLabels is not null) _metrics.Reference.RemoveLabelled(_referenceLabels);
            _referenceLabels = [refId, stratum];
            _metrics.Reference.WithLabels(_referenceLabels).Set(1);
        }
    }
}
