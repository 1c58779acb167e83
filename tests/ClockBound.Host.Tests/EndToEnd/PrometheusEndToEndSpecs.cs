using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using ClockBound.Host.Tests.Operations;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.EndToEnd;

/// <summary>A real prometheus, run with deploy/prometheus/'s configuration and rules, scrapes a real daemon next to a real
/// sandboxed chronyd (-x): what it stores is what the segment says, and the alert on the status fires when chronyd is
/// unsynchronised. The dashboard's and the rules' queries name only metrics the daemon exports.</summary>
[Collection(EndToEndCollection.Name)]
public sealed class PrometheusEndToEndSpecs(SynchronisedChronyd chrony) : IClassFixture<SynchronisedChronyd>, IDisposable
{
    /// <summary>Each wait spans a few scrape and evaluation intervals of 1 s; the margin is for a loaded machine.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The test's scrape and evaluation interval, and the "for:" of every alert in the test's copy of the rules:
    /// short enough for the whole test to take seconds.</summary>
    private const string TestInterval = "1s";

    private const string SeriesOfTheSegment = "{__name__=~\"clockbound_segment_generation|clockbound_bound_nanoseconds|clockbound_clock_status\",job=\"clockbound\"}";

    private readonly TempDirectory _dir = new("cb-prom-e2e");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Prometheus_must_store_the_segments_values_and_fire_ClockBoundNotSynchronized_when_chronyd_is_unsynchronised()
    {
        string shm = _dir.Combine("shm0");
        int metricsPort = LocalPorts.FreeTcp();
        string instance = $"127.0.0.1:{metricsPort}";
        await using var daemon = StartDaemon(shm, metricsPort);
        await daemon.WaitUntilAsync(() => RawSegment.TryRead(shm)?.ClockStatus == RawSegment.Synchronized, StepTimeout, "Synchronized");

        // Every write of the segment by its generation, read while prometheus scrapes: each scrape is compared with the
        // write it shows (a write every 100 ms, a scrape every second).
        var written = new ConcurrentDictionary<ushort, RawSegment>();
        using var recording = new CancellationTokenSource();
        var recorder = Task.Run(() =>
        {
            while (!recording.IsCancellationRequested)
            {
                if (RawSegment.TryRead(shm) is { } segment) written[segment.Generation] = segment;
                Thread.Sleep(1);
            }
        });
        try
        {
            using var prometheus = await StartPrometheusAsync(metricsPort);

            // The test's rules are the real ones with "for: 1s", loaded and evaluating without error.
            var notSynchronized = await RuleAsync(prometheus, "ClockBoundNotSynchronized");
            Assert.Equal(1.0, notSynchronized.GetProperty("duration").GetDouble());
            Assert.Equal("clockbound_clock_status != 1", notSynchronized.GetProperty("query").GetString());

            // Scrapes stored by prometheus show one write of the segment each: the same generation, bound and status.
            List<(double At, ushort Generation, RawSegment Segment, double Bound, double Status)> matched = [];
            await prometheus.WaitUntilAsync(async () =>
            {
                matched = [.. from scrape in await ScrapesAsync(prometheus)
                              where written.ContainsKey(scrape.Generation)
                              select (scrape.At, scrape.Generation, written[scrape.Generation], scrape.Bound, scrape.Status)];
                return matched.Count >= 3;
            }, StepTimeout, "three scrapes of recorded segment writes");
            Assert.All(matched, m =>
            {
                Assert.Equal(m.Segment.BoundNsec, m.Bound);
                Assert.Equal(m.Segment.ClockStatus, m.Status);
                Assert.Equal(RawSegment.Synchronized, m.Status);
            });

            // While synchronised, after evaluations of scraped data, no alert is pending or firing.
            double lastScrape = matched.Max(m => m.At);
            await WaitEvaluatedAfterAsync(prometheus, "ClockBoundNotSynchronized", lastScrape + 1);
            Assert.Empty(await ActiveAlertsAsync(prometheus));
            Assert.All((await RulesAsync(prometheus)).Values, rule =>
                Assert.True(rule.GetProperty("health").GetString() == "ok", $"{rule.GetProperty("name")}: {rule}"));

            await chrony.Sandbox.OfflineAndResetAsync();
            await daemon.WaitUntilAsync(() => RawSegment.TryRead(shm) is { ClockStatus: not RawSegment.Synchronized },
                StepTimeout, "the segment leaves Synchronized");

            var states = new List<string>();
            JsonElement firing = default;
            await prometheus.WaitUntilAsync(async () =>
            {
                var alert = (await ActiveAlertsAsync(prometheus)).FirstOrDefault(a =>
                    a.GetProperty("labels").GetProperty("alertname").GetString() == "ClockBoundNotSynchronized");
                if (alert.ValueKind == JsonValueKind.Undefined) return false;
                string state = alert.GetProperty("state").GetString()!;
                if (states.LastOrDefault() != state) states.Add(state);
                firing = alert;
                return state == "firing";
            }, StepTimeout, "ClockBoundNotSynchronized firing");
            var labels = firing.GetProperty("labels");
            Assert.Equal(instance, labels.GetProperty("instance").GetString());
            Assert.Equal("clockbound", labels.GetProperty("job").GetString());
            Assert.Equal("warning", labels.GetProperty("severity").GetString());
            // Its value is a status the segment published after chronyd went offline.
            int alertedStatus = (int)double.Parse(firing.GetProperty("value").GetString()!, CultureInfo.InvariantCulture);
            Assert.NotEqual(RawSegment.Synchronized, alertedStatus);
            Assert.Contains(written.Values, s => s.ClockStatus == alertedStatus);
            Assert.Equal("firing", states[^1]);

            // Back online: synchronised again, and the alert resolves.
            await chrony.Sandbox.OnlineAsync();
            await prometheus.WaitUntilAsync(async () => !(await ActiveAlertsAsync(prometheus)).Any(a =>
                a.GetProperty("labels").GetProperty("alertname").GetString() == "ClockBoundNotSynchronized"), StepTimeout,
                "ClockBoundNotSynchronized resolved");
            Assert.Equal(RawSegment.Synchronized, RawSegment.TryRead(shm)?.ClockStatus);
        }
        finally
        {
            recording.Cancel();
            await recorder;
            await chrony.Sandbox.OnlineAsync();
            await chrony.Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        }
    }

    [Fact]
    public async Task Grafana_dashboard_and_Prometheus_rules_must_query_only_metrics_the_daemon_exports()
    {
        string shm = _dir.Combine("shm0");
        int metricsPort = LocalPorts.FreeTcp();
        await using var daemon = StartDaemon(shm, metricsPort);
        await daemon.WaitUntilAsync(() => RawSegment.TryRead(shm)?.ClockStatus == RawSegment.Synchronized, StepTimeout, "Synchronized");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var exported = PrometheusDeploy.ExportedNames(await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics"));
        Assert.Contains("clockbound_chrony_poll_round_trip_seconds_bucket", exported);

        var dashboardExprs = GrafanaDashboardSpecs.Expressions().ToList();
        var queries = dashboardExprs.Concat(GrafanaDashboardSpecs.VariableQueries()).Concat(PrometheusDeploy.Rules().Select(r => r.Expr)).ToList();
        var used = queries.SelectMany(PrometheusDeploy.DaemonMetricNames).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(used);
        Assert.Empty(used.Except(exported));

        // And prometheus accepts every panel's query, with Grafana's variables as Grafana substitutes them.
        using var prometheus = await StartPrometheusAsync(metricsPort);
        await prometheus.WaitUntilAsync(async () => (await prometheus.QueryAsync("up{job=\"clockbound\"} == 1")).GetArrayLength() == 1,
            StepTimeout, "the daemon scraped");
        foreach (string expr in dashboardExprs)
        {
            string substituted = expr.Replace("$instance", ".*").Replace("$__rate_interval", "1m").Replace("$__range", "1h");
            var result = await prometheus.QueryAsync(substituted);
            Assert.Equal(JsonValueKind.Array, result.ValueKind);
        }
        Assert.NotEqual(0, (await prometheus.QueryAsync(
            $"clockbound_clock_status{{job=\"clockbound\", instance=~\".*\"}}")).GetArrayLength());
    }

    private DaemonProcess StartDaemon(string shm, int metricsPort) =>
        DaemonProcess.Start(["-m", "50", "-d", "--chrony-socket", chrony.Sandbox.ClientSocketPath, "--shm-path", shm,
            "--metrics-listen", $"127.0.0.1:{metricsPort}"], null);

    /// <summary>prometheus with deploy/prometheus/prometheus.yml, only its target, its intervals and its rules' "for:"
    /// changed for the test.</summary>
    private static Task<PrometheusProcess> StartPrometheusAsync(int metricsPort)
    {
        string example = File.ReadAllText(PrometheusDeploy.ExampleConfig);
        string config = example.Replace("15s", TestInterval).Replace("127.0.0.1:9464", $"127.0.0.1:{metricsPort}");
        Assert.DoesNotContain("15s", config);
        Assert.Contains($"127.0.0.1:{metricsPort}", config);
        Assert.Contains("- clockbound-rules.yml", config);
        return PrometheusProcess.StartAsync(config, new Dictionary<string, string>
        {
            ["clockbound-rules.yml"] = PrometheusDeploy.RulesWithFor(TestInterval),
        });
    }

    /// <summary>The stored scrapes of the segment's three metrics over the last 30 s, one entry per scrape timestamp.</summary>
    private static async Task<List<(double At, ushort Generation, double Bound, double Status)>> ScrapesAsync(PrometheusProcess prometheus)
    {
        var byTime = new SortedDictionary<double, Dictionary<string, double>>();
        foreach (var series in (await prometheus.QueryAsync(SeriesOfTheSegment + "[30s]")).EnumerateArray())
        {
            string name = series.GetProperty("metric").GetProperty("__name__").GetString()!;
            foreach (var point in series.GetProperty("values").EnumerateArray())
            {
                double at = point[0].GetDouble();
                if (!byTime.TryGetValue(at, out var values)) byTime[at] = values = [];
                values[name] = double.Parse(point[1].GetString()!, CultureInfo.InvariantCulture);
            }
        }
        return [.. from entry in byTime
                   where entry.Value.Count == 3
                   select (entry.Key, (ushort)entry.Value["clockbound_segment_generation"],
                       entry.Value["clockbound_bound_nanoseconds"], entry.Value["clockbound_clock_status"])];
    }

    private static async Task<List<JsonElement>> ActiveAlertsAsync(PrometheusProcess prometheus) =>
        [.. (await prometheus.ApiAsync("alerts")).GetProperty("alerts").EnumerateArray()];

    /// <summary>Every loaded rule by name (/api/v1/rules).</summary>
    private static async Task<Dictionary<string, JsonElement>> RulesAsync(PrometheusProcess prometheus) =>
        (await prometheus.ApiAsync("rules")).GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .ToDictionary(r => r.GetProperty("name").GetString()!, StringComparer.Ordinal);

    private static async Task<JsonElement> RuleAsync(PrometheusProcess prometheus, string name)
    {
        var rules = await RulesAsync(prometheus);
        Assert.Equal(PrometheusDeploy.Rules().Select(r => r.Name).Order(StringComparer.Ordinal), rules.Keys.Order(StringComparer.Ordinal));
        return rules[name];
    }

    /// <summary>Waits until <paramref name="rule"/> was last evaluated after <paramref name="unixSeconds"/>.</summary>
    private static Task WaitEvaluatedAfterAsync(PrometheusProcess prometheus, string rule, double unixSeconds) =>
        prometheus.WaitUntilAsync(async () =>
        {
            var at = DateTimeOffset.Parse((await RulesAsync(prometheus))[rule].GetProperty("lastEvaluation").GetString()!, CultureInfo.InvariantCulture);
            return at.ToUnixTimeMilliseconds() / 1000.0 > unixSeconds;
        }, StepTimeout, $"{rule} evaluated after {unixSeconds}");
}
