using System.Text.Json;
using ClockBound.Host.Configuration;
using ClockBound.TestSupport;
using YamlDotNet.RepresentationModel;

namespace ClockBound.Host.Tests.Operations;

/// <summary>deploy/kubernetes/: the DaemonSet and the example application pod agree with the daemon's defaults.</summary>
public sealed class KubernetesManifestSpecs
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(1);
    private static readonly YamlMappingNode DaemonSet = LoadSingle("clockbound-daemonset.yaml");
    private static readonly YamlMappingNode AppPod = LoadSingle("example-app-pod.yaml");
    private static readonly YamlMappingNode DaemonPodSpec = Map(Map(Map(DaemonSet, "spec"), "template"), "spec");
    private static readonly YamlMappingNode DaemonContainer = Assert.Single(Seq(DaemonPodSpec, "containers").Children.Cast<YamlMappingNode>());
    private static readonly IReadOnlyList<string> DaemonArgs = [.. Seq(DaemonContainer, "args").Children.Select(Scalar)];

    /// <summary>The daemon's built-in defaults (config/clockbound.conf as the daemon loads it).</summary>
    private static readonly ClockBound.Actors.ClockBoundSettings Defaults = ConfigurationLoader.Load(new CommandLineOverrides()).Settings;

    [Fact]
    public void Manifests_must_be_a_DaemonSet_and_a_Pod()
    {
        Assert.Equal("DaemonSet", Text(DaemonSet, "kind"));
        Assert.Equal("apps/v1", Text(DaemonSet, "apiVersion"));
        Assert.Equal("Pod", Text(AppPod, "kind"));
        Assert.Equal("v1", Text(AppPod, "apiVersion"));
        // The selector must match the pod template, or the API server rejects the DaemonSet.
        var selector = Map(Map(Map(DaemonSet, "spec"), "selector"), "matchLabels");
        var labels = Map(Map(Map(Map(DaemonSet, "spec"), "template"), "metadata"), "labels");
        foreach (var (key, value) in selector.Children)
            Assert.Equal(Scalar(value), Text(labels, Scalar(key)));
    }

    [Fact]
    public void DaemonSet_must_publish_the_segment_where_clients_look_for_it()
    {
        string shmPath = ArgValue("--shm-path");
        Assert.Equal(HostPath(Defaults.ShmPath), shmPath);
        Assert.Equal(HostPath(Path.GetDirectoryName(Defaults.ShmPath)!), MountedHostPath(DaemonPodSpec, DaemonContainer, Path.GetDirectoryName(shmPath)!, "DirectoryOrCreate", readOnly: false));
    }

    [Fact]
    public void DaemonSet_must_reach_the_hosts_chronyd_socket_with_write_access_to_its_directory()
    {
        string socket = ArgValue("--chrony-socket");
        Assert.Equal(HostPath(Defaults.ChronySocketPath), socket);
        // The daemon binds its own client socket next to chronyd's (as chronyc does): the mount must be writable.
        Assert.Equal(HostPath(Path.GetDirectoryName(Defaults.ChronySocketPath)!), MountedHostPath(DaemonPodSpec, DaemonContainer, Path.GetDirectoryName(socket)!, "Directory", readOnly: false));
    }

    [Fact]
    public void DaemonSet_must_mount_the_VMClock_device_at_the_default_path()
    {
        Assert.DoesNotContain("--vmclock-path", DaemonArgs);
        Assert.DoesNotContain("--disable-clock-disruption-support", DaemonArgs);
        Assert.Equal(Defaults.VmClockPath, MountedHostPath(DaemonPodSpec, DaemonContainer, Defaults.VmClockPath, "CharDevice", readOnly: true));
    }

    [Fact]
    public void DaemonSet_must_match_chronys_maxclockerror_50()
    {
        Assert.Equal("50", ArgValue("--max-drift-rate"));
    }

    [Fact]
    public async Task DaemonSet_args_must_be_accepted_by_the_daemon()
    {
        // --check-config parses and validates exactly as the daemon would start, and touches nothing.
        var check = await ToolRun.RunAsync(RepoPaths.Daemon, [.. DaemonArgs, "--check-config"], ToolTimeout);

        Assert.True(check.ExitCode == 0, $"clockbound {string.Join(' ', DaemonArgs)} --check-config exited with {check.ExitCode}: {check.Stderr}{check.Stdout}");
        Assert.Contains("/run/clockbound/shm0", check.Stdout);
        Assert.Contains("/run/chrony/chronyd.sock", check.Stdout);
        Assert.Contains("max-drift-rate = 50", check.Stdout);
    }

    [Fact]
    public void DaemonSet_must_open_no_port()
    {
        // The daemon listens on nothing: metrics are off unless --metrics-listen is given.
        foreach (var container in Seq(DaemonPodSpec, "containers").Children.Cast<YamlMappingNode>())
            Assert.False(container.Children.ContainsKey("ports"), $"container {Text(container, "name")} declares ports");
        Assert.DoesNotContain("--metrics-listen", DaemonArgs);
        Assert.False(DaemonPodSpec.Children.ContainsKey("hostNetwork"), "the DaemonSet needs no host network: chronyd is reached through its Unix socket");
    }

    [Fact]
    public async Task DaemonSet_must_say_how_to_turn_on_the_metrics_it_leaves_off()
    {
        // Comments only: the parsed YAML does not hold them. They must name the daemon's real option.
        string text = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "deploy", "kubernetes", "clockbound-daemonset.yaml"));
        Assert.Contains("--metrics-listen ADDRESS:PORT", text);
        Assert.DoesNotContain("will be opt-in", text);
    }

    [Fact]
    public async Task DaemonSet_must_run_the_image_the_Dockerfile_builds_with_the_same_arguments()
    {
        Assert.Equal($"clockbound-net:{InstallSpecs.HostVersion()}", Text(DaemonContainer, "image"));

        string cmd = (await File.ReadAllLinesAsync(Path.Combine(RepoPaths.Root, "deploy", "container", "Dockerfile")))
            .Single(line => line.StartsWith("CMD ", StringComparison.Ordinal))["CMD ".Length..];
        Assert.Equal(DaemonArgs, JsonSerializer.Deserialize<string[]>(cmd));
    }

    [Fact]
    public void Example_app_must_mount_only_the_segment_directory_read_only()
    {
        var spec = Map(AppPod, "spec");
        var app = Assert.Single(Seq(spec, "containers").Children.Cast<YamlMappingNode>());
        string shmDirectory = HostPath(Path.GetDirectoryName(Defaults.ShmPath)!);

        Assert.Equal(shmDirectory, MountedHostPath(spec, app, shmDirectory, "Directory", readOnly: true));
        var hostPathVolumes = Seq(spec, "volumes").Children.Cast<YamlMappingNode>().Where(v => v.Children.ContainsKey("hostPath")).ToList();
        Assert.Equal(shmDirectory, Text(Map(Assert.Single(hostPathVolumes), "hostPath"), "path"));

        var security = Map(app, "securityContext");
        Assert.Equal("true", Text(security, "runAsNonRoot"));
        Assert.Equal("false", Text(security, "allowPrivilegeEscalation"));
        Assert.False(security.Children.ContainsKey("privileged"));
    }

    [Fact]
    public void Example_app_must_share_the_segment_directory_the_DaemonSet_writes()
    {
        var daemonVolume = Seq(DaemonPodSpec, "volumes").Children.Cast<YamlMappingNode>()
            .Single(v => v.Children.ContainsKey("hostPath") && Text(Map(v, "hostPath"), "path") == Path.GetDirectoryName(ArgValue("--shm-path")));
        var appVolume = Seq(Map(AppPod, "spec"), "volumes").Children.Cast<YamlMappingNode>().Single(v => v.Children.ContainsKey("hostPath"));

        Assert.Equal(Text(Map(daemonVolume, "hostPath"), "path"), Text(Map(appVolume, "hostPath"), "path"));
    }

    /// <summary>The path as seen on the host and in containers: /var/run is a link to /run.</summary>
    private static string HostPath(string path) =>
        path.StartsWith("/var/run/", StringComparison.Ordinal) ? path["/var".Length..] : path;

    private static string ArgValue(string option)
    {
        int index = DaemonArgs.ToList().IndexOf(option);
        Assert.True(index >= 0 && index + 1 < DaemonArgs.Count, $"the DaemonSet's args have no {option} VALUE");
        return DaemonArgs[index + 1];
    }

    /// <summary>
    /// The host path behind <paramref name="mountPath"/> in <paramref name="container"/>, after checking that the volume is a
    /// hostPath of <paramref name="type"/> and that the mount is (or is not) read-only.
    /// </summary>
    private static string MountedHostPath(YamlMappingNode podSpec, YamlMappingNode container, string mountPath, string type, bool readOnly)
    {
        var mount = Seq(container, "volumeMounts").Children.Cast<YamlMappingNode>().SingleOrDefault(m => Text(m, "mountPath") == mountPath)
                    ?? throw new Xunit.Sdk.XunitException($"container {Text(container, "name")} mounts nothing at {mountPath}");
        bool mountIsReadOnly = mount.Children.TryGetValue("readOnly", out var flag) && Scalar(flag) == "true";
        Assert.True(readOnly == mountIsReadOnly, $"the mount at {mountPath} must {(readOnly ? "" : "not ")}be read-only");

        var volume = Seq(podSpec, "volumes").Children.Cast<YamlMappingNode>().Single(v => Text(v, "name") == Text(mount, "name"));
        var hostPath = Map(volume, "hostPath");
        Assert.Equal(type, Text(hostPath, "type"));
        return Text(hostPath, "path");
    }

    private static YamlMappingNode LoadSingle(string file)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(RepoPaths.Root, "deploy", "kubernetes", file)))
            yaml.Load(reader);
        return (YamlMappingNode)Assert.Single(yaml.Documents).RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)Child(node, key);

    private static YamlSequenceNode Seq(YamlMappingNode node, string key) => (YamlSequenceNode)Child(node, key);

    private static string Text(YamlMappingNode node, string key) => Scalar(Child(node, key));

    private static string Scalar(YamlNode node) => ((YamlScalarNode)node).Value ?? "";

    private static YamlNode Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var child)
            ? child
            : throw new Xunit.Sdk.XunitException($"no '{key}' at line {node.Start.Line} of the manifest");
}
