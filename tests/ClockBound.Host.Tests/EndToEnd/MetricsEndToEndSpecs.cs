using System.Globalization;
using System.Net;
using System.Net.Sockets;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.EndToEnd;

/// <summary>--metrics-listen: a running daemon's /metrics scraped over loopback and checked against its segment.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class MetricsEndToEndSpecs(SynchronisedChronyd chrony) : IClassFixture<SynchronisedChronyd>, IDisposable
{
    private readonly TempDirectory _dir = new("cb-metrics");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Metrics_must_match_the_segment_and_chronyd()
    {
        string shm = _dir.Combine("shm0");
        int port = LocalPorts.FreeTcp();
        await using var daemon = DaemonProcess.Start(["-m", "50", "-d", "--chrony-socket", chrony.Sandbox.ClientSocketPath,
            "--shm-path", shm, "--metrics-listen", $"127.0.0.1:{port}"], null);
        await daemon.WaitUntilAsync(() => RawSegment.TryRead(shm)?.ClockStatus == RawSegment.Synchronized, TimeSpan.FromSeconds(20), "Synchronized");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        // The segment changes every 100 ms: compare a scrape with the segment read right after it, at the same generation.
        Dictionary<string, double>? metrics = null;
        RawSegment? segment = null;
        for (int attempt = 0; attempt < 50 && (metrics is null || segment is null || metrics["clockbound_segment_generation"] != segment.Generation); attempt++)
        {
            metrics = Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
            segment = RawSegment.TryRead(shm);
        }
        Assert.NotNull(segment);
        Assert.Equal(segment.Generation, metrics!["clockbound_segment_generation"]);
        Assert.Equal(segment.BoundNsec, metrics["clockbound_bound_nanoseconds"]);
        Assert.Equal(segment.ClockStatus, metrics["clockbound_clock_status"]);
        Assert.True(metrics["clockbound_segment_writes_total"] >= 1);
        Assert.Equal(1, metrics["clockbound_chrony_reference_info{ref_id=\"7F000001\",stratum=\"9\"}"]);
        Assert.True(metrics["clockbound_chrony_poll_round_trip_seconds_count"] >= 1);
        Assert.InRange(metrics["clockbound_chrony_root_delay_seconds"], 0, 0.01);   // loopback NTP
        Assert.InRange(metrics["clockbound_chrony_update_interval_seconds"], 0.01, 10);
        Assert.DoesNotContain(metrics.Keys, k => k.StartsWith("clockbound_chrony_poll_failures_total{", StringComparison.Ordinal));
        // The runtime's own figures (for memory alerts and the soak's GC heap samples).
        Assert.InRange(metrics["dotnet_total_memory_bytes"], 1, 64 * 1024 * 1024);
        Assert.True(metrics["process_num_threads"] >= 2);
        Assert.True(metrics["process_working_set_bytes"] > metrics["dotnet_total_memory_bytes"]);

        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task A_taken_metrics_port_must_fail_the_start_with_exit_1_naming_the_address()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        await using var daemon = DaemonProcess.Start(["-d", "--chrony-socket", chrony.Sandbox.ClientSocketPath,
            "--shm-path", _dir.Combine("shm0"), "--metrics-listen", $"127.0.0.1:{port}"], null);

        Assert.Equal(ExitCodes.StartupFailure, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains(daemon.Output, l => l.Contains($"127.0.0.1:{port}") && l.Contains("cannot listen"));
        Assert.False(File.Exists(_dir.Combine("shm0")));
    }

    /// <summary>Prometheus text format: "name{labels} value" lines; comments skipped.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var result = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            result[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return result;
    }
}
