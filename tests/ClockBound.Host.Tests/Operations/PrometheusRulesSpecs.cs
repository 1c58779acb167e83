using YamlDotNet.RepresentationModel;
using static ClockBound.Host.Tests.Operations.PrometheusDeploy;

namespace ClockBound.Host.Tests.Operations;

/// <summary>deploy/prometheus/: the rules pass promtool's checks and their unit tests, and every rule is unit-tested.</summary>
public sealed class PrometheusRulesSpecs
{
    /// <summary>promtool starts in well under a second; the margin is for a loaded machine.</summary>
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Rules_file_must_pass_promtool_check_rules()
    {
        var result = await ToolRun.RunAsync("promtool", ["check", "rules", RulesFile], ToolTimeout);

        Assert.True(result.ExitCode == 0, $"{result.Command} exited with {result.ExitCode}:\n{result.Stdout}{result.Stderr}");
        Assert.Contains($"SUCCESS: {Rules().Count} rules found", result.Stdout + result.Stderr);
    }

    [Fact]
    public async Task Example_configuration_must_pass_promtool_check_config()
    {
        var result = await ToolRun.RunAsync("promtool", ["check", "config", ExampleConfig], ToolTimeout);

        Assert.True(result.ExitCode == 0, $"{result.Command} exited with {result.ExitCode}:\n{result.Stdout}{result.Stderr}");
        Assert.Contains("is valid prometheus config file syntax", result.Stdout + result.Stderr);
    }

    [Fact]
    public async Task Rule_unit_tests_must_pass_promtool_test_rules()
    {
        Assert.NotEmpty(TestFiles);
        var result = await ToolRun.RunAsync("promtool", ["test", "rules", .. TestFiles], ToolTimeout);

        string output = result.Stdout + result.Stderr;
        Assert.True(result.ExitCode == 0, $"{result.Command} exited with {result.ExitCode}:\n{output}");
        Assert.DoesNotContain("FAILED", output);
        // One "SUCCESS" per file: promtool ran every file given.
        Assert.Equal(TestFiles.Count, output.Split("SUCCESS").Length - 1);
    }

    [Fact]
    public void Every_alert_must_have_a_unit_test_where_it_fires_and_one_where_it_stays_silent()
    {
        var firing = new HashSet<string>(StringComparer.Ordinal);
        var silent = new HashSet<string>(StringComparer.Ordinal);
        foreach (var test in TestCases("alert_rule_test"))
        {
            var expected = test.Children.TryGetValue("exp_alerts", out var node) ? (YamlSequenceNode)node : new YamlSequenceNode();
            (expected.Children.Count > 0 ? firing : silent).Add(Scalar(test, "alertname"));
        }

        var alerts = Rules().Where(r => r.Kind == "alert").Select(r => r.Name).ToList();
        Assert.NotEmpty(alerts);
        Assert.Empty(alerts.Except(firing));
        Assert.Empty(alerts.Except(silent));
        // And no test names an alert that no longer exists (it would pass by expecting silence forever).
        Assert.Empty(firing.Union(silent).Except(alerts));
    }

    [Fact]
    public void Every_recording_rule_must_have_a_unit_test_of_its_value()
    {
        var tested = TestCases("promql_expr_test").Select(t => Scalar(t, "expr")).ToHashSet(StringComparer.Ordinal);
        var recorded = Rules().Where(r => r.Kind == "record").Select(r => r.Name).ToList();

        Assert.NotEmpty(recorded);
        Assert.Empty(recorded.Except(tested));
    }

    [Fact]
    public void Alerts_must_carry_a_severity_a_summary_and_a_description()
    {
        var root = LoadYaml(RulesFile);
        var alerts = ((YamlSequenceNode)root.Children["groups"]).Children.Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g.Children["rules"]).Children.Cast<YamlMappingNode>())
            .Where(r => r.Children.ContainsKey("alert")).ToList();

        Assert.NotEmpty(alerts);
        foreach (var alert in alerts)
        {
            string name = Scalar(alert, "alert");
            Assert.True(alert.Children.TryGetValue("labels", out var labels), $"{name} has no labels");
            Assert.Contains(Scalar((YamlMappingNode)labels, "severity"), (string[])["info", "warning", "critical"]);
            var annotations = (YamlMappingNode)alert.Children["annotations"];
            Assert.False(string.IsNullOrWhiteSpace(Scalar(annotations, "summary")), $"{name} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(Scalar(annotations, "description")), $"{name} has no description");
        }
    }

    /// <summary>The entries of <paramref name="kind"/> (alert_rule_test or promql_expr_test) of every test file.</summary>
    private static IEnumerable<YamlMappingNode> TestCases(string kind) =>
        from file in TestFiles
        let root = LoadYaml(file)
        from test in ((YamlSequenceNode)root.Children["tests"]).Children.Cast<YamlMappingNode>()
        where test.Children.ContainsKey(kind)
        from testCase in ((YamlSequenceNode)test.Children[kind]).Children.Cast<YamlMappingNode>()
        select testCase;
}
