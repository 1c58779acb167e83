using ClockBound.Actors.Metrics;

namespace ClockBound.Actors.Tests.Metrics;

/// <summary>A scrape of the segment's metrics always describes one write, however writes and scrapes interleave.</summary>
public sealed class ClockBoundMetricsSpecs
{
    /// <summary>Enough scrapes, each racing a writer that publishes flat out, for a scrape that mixes two writes to be
    /// all but certain without the snapshot: with the gauges set one by one, 20 000 scrapes caught a mix in five runs of five here (2 000 in one of three).</summary>
    private const int Scrapes = 20_000;

    [Fact]
    public async Task A_scrape_must_never_mix_two_segment_writes()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new ClockBoundMetrics(registry);
        using var stop = new CancellationTokenSource();
        // Every write's fields are functions of its generation, so a scrape can tell whether they belong together.
        var writer = Task.Run(() =>
        {
            for (long n = 1; !stop.IsCancellationRequested; n++)
                metrics.Publish(new ClockBoundMetrics.PublishedSegment(BoundNanoseconds: n * 10, Status: (int)(n % 4),
                    Generation: (ushort)(2 * n), Writes: n));
        });

        try
        {
            for (int i = 0; i < Scrapes; i++)
            {
                var values = await MetricsScrape.ValuesAsync(registry);
                if (!values.TryGetValue("clockbound_segment_writes_total", out var writes) || writes == 0) continue;
                Assert.Equal((ushort)(2 * writes), values["clockbound_segment_generation"]);
                Assert.Equal(writes * 10, values["clockbound_bound_nanoseconds"]);
                Assert.Equal(writes % 4, values["clockbound_clock_status"]);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }
    }
}
