using System.Text.Json;
using static ClockBound.Host.Tests.Operations.PrometheusDeploy;

namespace ClockBound.Host.Tests.Operations;

/// <summary>deploy/grafana/clockbound-dashboard.json: a Grafana dashboard in the shape Grafana imports, with the panels an
/// operator needs. That its queries name only metrics the daemon exports, and that Prometheus accepts them, is checked
/// against a real daemon and a real Prometheus (EndToEnd/PrometheusEndToEndSpecs.cs).</summary>
public sealed class GrafanaDashboardSpecs
{
    private static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Dashboard)).RootElement;

    /// <summary>Grafana's grid is 24 columns wide.</summary>
    private const int GridColumns = 24;

    [Fact]
    public void Grafana_dashboard_must_have_the_top_level_fields_of_a_dashboard_model()
    {
        Assert.Equal(JsonValueKind.Object, Root.ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(Root.GetProperty("title").GetString()));
        string uid = Root.GetProperty("uid").GetString()!;
        // Grafana accepts uids of at most 40 characters of [a-zA-Z0-9-_].
        Assert.Matches("^[A-Za-z0-9_-]{1,40}$", uid);
        Assert.True(Root.GetProperty("schemaVersion").GetInt32() >= 36, "schemaVersion below Grafana 9's");
        Assert.Equal(JsonValueKind.Array, Root.GetProperty("panels").ValueKind);
        Assert.Equal(JsonValueKind.Array, Root.GetProperty("templating").GetProperty("list").ValueKind);
        Assert.Equal(JsonValueKind.Object, Root.GetProperty("time").ValueKind);
        // Imported dashboards must not carry a database id of the Grafana they were exported from.
        Assert.False(Root.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public void Grafana_panels_must_each_have_a_type_a_title_a_place_on_the_grid_and_queries()
    {
        var ids = new HashSet<int>();
        foreach (var panel in Panels())
        {
            string title = panel.GetProperty("title").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(title));
            Assert.False(string.IsNullOrWhiteSpace(panel.GetProperty("type").GetString()), title);
            Assert.True(ids.Add(panel.GetProperty("id").GetInt32()), $"{title}: duplicate panel id");
            var grid = panel.GetProperty("gridPos");
            int x = grid.GetProperty("x").GetInt32(), w = grid.GetProperty("w").GetInt32();
            Assert.True(x >= 0 && w > 0 && x + w <= GridColumns, $"{title}: gridPos x {x} w {w} outside the 24 columns");
            Assert.True(grid.GetProperty("h").GetInt32() > 0 && grid.GetProperty("y").GetInt32() >= 0, title);
            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), title));
            Assert.Equal(targets.Count, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
        }
    }

    [Fact]
    public void Grafana_dashboard_must_show_status_bound_disruptions_round_trip_restarts_and_poll_failures()
    {
        var exprs = Panels().SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!).ToList();

        Assert.Contains(exprs, e => e.StartsWith("clockbound_clock_status{", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.StartsWith("clockbound_bound_nanoseconds{", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("clockbound_disruptions_total", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("histogram_quantile(0.99", StringComparison.Ordinal)
                                    && e.Contains("clockbound_chrony_poll_round_trip_seconds_bucket", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("clockbound_actor_restarts_total", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("clockbound_chrony_poll_failures_total", StringComparison.Ordinal));
        // Per host: every query is filtered by the instance variable and split by instance in its legend.
        Assert.All(Panels().SelectMany(p => p.GetProperty("targets").EnumerateArray()), t =>
        {
            Assert.Contains("instance=~\"$instance\"", t.GetProperty("expr").GetString());
            Assert.Contains("{{instance}}", t.GetProperty("legendFormat").GetString());
        });
    }

    /// <summary>Every query of the dashboard (panels and template variables), as Grafana sends it before substitution.</summary>
    internal static IEnumerable<string> Expressions()
    {
        foreach (var panel in Panels())
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
                yield return target.GetProperty("expr").GetString()!;
    }

    /// <summary>The template variables' queries (label_values(...)).</summary>
    internal static IEnumerable<string> VariableQueries() =>
        from variable in Root.GetProperty("templating").GetProperty("list").EnumerateArray()
        where variable.GetProperty("type").GetString() == "query"
        select variable.GetProperty("definition").GetString()!;

    private static IEnumerable<JsonElement> Panels() => Root.GetProperty("panels").EnumerateArray();
}
