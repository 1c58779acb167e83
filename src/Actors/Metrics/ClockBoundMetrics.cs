using Prometheus;

namespace ClockBound.Actors.Metrics;

/// <summary>The daemon's Prometheus metrics, on a registry of their own (no process-wide default registry).</summary>
/// <remarks>The four metrics of the segment (bound, status, generation, writes) describe one write together. A scrape
/// runs on the HTTP server's thread while the metrics actor handles the next write, so setting them one by one could
/// serve a scrape half of one write and half of the next. Instead the actor publishes each write as one immutable
/// <see cref="PublishedSegment"/>, and the registry's before-collect callback copies the latest into the gauges: a
/// scrape always shows one write.</remarks>
public sealed class ClockBoundMetrics
{
    /// <summary>One segment write as the metrics show it; <see cref="Writes"/> counts the writes so far.</summary>
    public sealed record PublishedSegment(long BoundNanoseconds, int Status, ushort Generation, long Writes);

    private PublishedSegment? _published;
    private readonly Lock _collecting = new();

    public ClockBoundMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        BoundNanoseconds = f.CreateGauge("clockbound_bound_nanoseconds", "Published bound on the clock error at as_of (bound_nsec of the segment)");
        Status = f.CreateGauge("clockbound_clock_status", "Published clock status: 0 Unknown, 1 Synchronized, 2 FreeRunning, 3 Disrupted");
        Generation = f.CreateGauge("clockbound_segment_generation", "Generation of the segment after the last write");
        SegmentWrites = f.CreateCounter("clockbound_segment_writes_total", "Segment writes");
        CurrentCorrection = f.CreateGauge("clockbound_chrony_current_correction_seconds", "chronyd tracking: current correction");
        RootDelay = f.CreateGauge("clockbound_chrony_root_delay_seconds", "chronyd tracking: root delay");
        RootDispersion = f.CreateGauge("clockbound_chrony_root_dispersion_seconds", "chronyd tracking: root dispersion");
        Frequency = f.CreateGauge("clockbound_chrony_frequency_ppm", "chronyd tracking: frequency");
        Skew = f.CreateGauge("clockbound_chrony_skew_ppm", "chronyd tracking: skew");
        UpdateInterval = f.CreateGauge("clockbound_chrony_update_interval_seconds", "chronyd tracking: last update interval");
        Reference = f.CreateGauge("clockbound_chrony_reference_info", "chronyd tracking: 1 for the current reference id and stratum", "ref_id", "stratum");
        PollRoundTrip = f.CreateHistogram("clockbound_chrony_poll_round_trip_seconds", "Tracking request to its reply in hand (first looked for 250 us after the request, then every 1 ms)",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(start: 0.00005, factor: 2, count: 16) });
        PollFailures = f.CreateCounter("clockbound_chrony_poll_failures_total", "Failed tracking polls by kind", "kind");
        Disruptions = f.CreateCounter("clockbound_disruptions_total", "Clock disruptions acted on (VMClock marker changes, SIGUSR1)");
        ChronyResets = f.CreateCounter("clockbound_chrony_resets_total", "Completed chronyd reset-sources + burst sequences");
        Restarts = f.CreateCounter("clockbound_actor_restarts_total", "Supervision restarts of the I/O actors", "actor");
        registry.AddBeforeCollectCallback(CopyPublishedSegment);
    }

    /// <summary>Called for every segment write (metrics actor); the next scrape shows it.</summary>
    public void Publish(PublishedSegment segment) => Volatile.Write(ref _published, segment);

    private void CopyPublishedSegment()
    {
        if (Volatile.Read(ref _published) is not { } p) return;
        // Two scrapes at once each copy one whole write; the later write wins.
        lock (_collecting)
        {
            BoundNanoseconds.Set(p.BoundNanoseconds);
            Status.Set(p.Status);
            Generation.Set(p.Generation);
            SegmentWrites.IncTo(p.Writes);
        }
    }

    public CollectorRegistry Registry { get; }
    public Gauge BoundNanoseconds { get; }
    public Gauge Status { get; }
    public Gauge Generation { get; }
    public Counter SegmentWrites { get; }
    public Gauge CurrentCorrection { get; }
    public Gauge RootDelay { get; }
    public Gauge RootDispersion { get; }
    public Gauge Frequency { get; }
    public Gauge Skew { get; }
    public Gauge UpdateInterval { get; }
    public Gauge Reference { get; }
    public Histogram PollRoundTrip { get; }
    public Counter PollFailures { get; }
    public Counter Disruptions { get; }
    public Counter ChronyResets { get; }
    public Counter Restarts { get; }
}
