using System.Text.RegularExpressions;
using ClockBound.TestSupport;
using YamlDotNet.RepresentationModel;

namespace ClockBound.Host.Tests.Operations;

/// <summary>deploy/prometheus/ and deploy/grafana/ as the tests read them: the rules, their promtool tests, the example
/// configuration, the dashboard, and the daemon's metric names their expressions use.</summary>
internal static partial class PrometheusDeploy
{
    public static string Directory { get; } = Path.Combine(RepoPaths.Root, "deploy", "prometheus");

    public static string RulesFile { get; } = Path.Combine(Directory, "clockbound-rules.yml");

    public static string ExampleConfig { get; } = Path.Combine(Directory, "prometheus.yml");

    public static string Dashboard { get; } = Path.Combine(RepoPaths.Root, "deploy", "grafana", "clockbound-dashboard.json");

    /// <summary>The promtool unit-test files (deploy/prometheus/tests/*.yml), sorted.</summary>
    public static IReadOnlyList<string> TestFiles { get; } =
        [.. System.IO.Directory.GetFiles(Path.Combine(Directory, "tests"), "*.yml").Order(StringComparer.Ordinal)];

    /// <summary>Every rule of the rules file: (group, "alert" or "record", name, expr).</summary>
    public static IReadOnlyList<(string Group, string Kind, string Name, string Expr)> Rules()
    {
        var root = LoadYaml(RulesFile);
        var rules = new List<(string, string, string, string)>();
        foreach (var group in ((YamlSequenceNode)root.Children["groups"]).Children.Cast<YamlMappingNode>())
        {
            string groupName = Scalar(group, "name");
            foreach (var rule in ((YamlSequenceNode)group.Children["rules"]).Children.Cast<YamlMappingNode>())
            {
                string kind = rule.Children.ContainsKey("alert") ? "alert" : "record";
                rules.Add((groupName, kind, Scalar(rule, kind), Scalar(rule, "expr")));
            }
        }
        return rules;
    }

    public static YamlMappingNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path)) stream.Load(reader);
        return (YamlMappingNode)Assert.Single(stream.Documents).RootNode;
    }

    public static string Scalar(YamlMappingNode map, string key) =>
        ((YamlScalarNode)map.Children[key]).Value ?? throw new InvalidDataException($"{key} has no value");

    /// <summary>The rules file with every alert's <c>for:</c> replaced by <paramref name="forDuration"/>: the real
    /// expressions, on a test's time scale. Fails unless every <c>for:</c> line was replaced.</summary>
    public static string RulesWithFor(string forDuration)
    {
        string text = File.ReadAllText(RulesFile);
        int lines = text.Split('\n').Count(l => l.TrimStart().StartsWith("for:", StringComparison.Ordinal));
        int replaced = 0;
        string result = ForLine().Replace(text, m => { replaced++; return $"{m.Groups[1].Value}for: {forDuration}"; });
        Assert.True(lines > 0 && replaced == lines, $"replaced {replaced} of {lines} 'for:' lines");
        return result;
    }

    /// <summary>The daemon's metric names an expression uses: its own (clockbound_...) and the runtime's that
    /// prometheus-net exports (process_..., dotnet_...); recorded series (instance:clockbound_...:...) and label values
    /// are not metric names of the daemon.</summary>
    public static IEnumerable<string> DaemonMetricNames(string expr) =>
        DaemonMetricName().Matches(expr).Select(m => m.Value);

    /// <summary>The series names a /metrics page offers, from its <c># TYPE</c> lines (present even for a labelled metric
    /// that has no series yet): a histogram offers NAME_bucket, NAME_count and NAME_sum.</summary>
    public static IReadOnlySet<string> ExportedNames(string metricsText)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in metricsText.Split('\n'))
        {
            var parts = line.Split(' ');
            if (parts is not ["#", "TYPE", var name, var type]) continue;
            if (type == "histogram")
                names.UnionWith([name + "_bucket", name + "_count", name + "_sum"]);
            else
                names.Add(name);
        }
        return names;
    }

    [GeneratedRegex(@"^(\s*)for:\s*\S+\s*$", RegexOptions.Multiline)]
    private static partial Regex ForLine();

    [GeneratedRegex(@"(?<![\w:])(?:clockbound|process|dotnet)_[A-Za-z0-9_]+(?![\w:])")]
    private static partial Regex DaemonMetricName();
}
