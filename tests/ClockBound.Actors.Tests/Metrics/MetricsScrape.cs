using System.Globalization;

namespace ClockBound.Actors.Tests.Metrics;

/// <summary>A scrape of a registry in Prometheus text format, as the metrics endpoint serves it.</summary>
internal static class MetricsScrape
{
    /// <summary>Every sample, by name with its labels as the text format writes them (<c>name{label="value"}</c>).</summary>
    public static async Task<Dictionary<string, double>> ValuesAsync(Prometheus.CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream);
        var values = new Dictionary<string, double>();
        foreach (var line in System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            values[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return values;
    }
}
