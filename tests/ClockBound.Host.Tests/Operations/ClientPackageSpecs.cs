using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ClockBound.Host.Tests.EndToEnd;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Host.Tests.Operations;

/// <summary>
/// One <c>dotnet pack src/Client</c> into a folder feed, and samples/CommitWait copied out of the repository and built
/// against that feed alone (one restore into a packages folder of its own, so no cached copy of the package is used),
/// shared by the class.
/// </summary>
public sealed class PackedClient : IAsyncLifetime
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>A pack, or a restore and build of a one-file program, on a busy 2-core machine: only bounds a hang.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private readonly TempDirectory _directory = new("cb-pkg");

    public string Feed => _directory.Combine("feed");
    public string Package => Path.Combine(Feed, $"ClockBound.Client.{Version}.nupkg");
    public string SymbolsPackage => Path.Combine(Feed, $"ClockBound.Client.{Version}.snupkg");
    public string Sample => _directory.Combine("CommitWait");
    public string SampleDll => Path.Combine(Sample, "bin", Configuration, "net10.0", "CommitWait.dll");

    /// <summary>The version the sample references, which the package must have.</summary>
    public string Version { get; private set; } = "";

    /// <summary>The sample's restore and build: the specs that run it fail with its output when it failed, the ones
    /// that look into the package do not depend on it.</summary>
    internal ToolResult SampleBuild { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        string client = Path.Combine(RepoPaths.Root, "src", "Client", "ClockBound.Client.csproj");
        (await ToolRun.RunAsync("dotnet", ["pack", client, "-c", Configuration, "-o", Feed, .. QuietBuild], BuildTimeout)).EnsureSuccess();

        // The sample's files as a user would copy them (not its bin/ or obj/, should someone have built it in place).
        string source = Path.Combine(RepoPaths.Root, "samples", "CommitWait");
        Directory.CreateDirectory(Sample);
        foreach (string file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(Sample, Path.GetFileName(file)));
        Version = XDocument.Load(Path.Combine(Sample, "CommitWait.csproj")).Descendants("PackageReference")
            .Single(r => (string?)r.Attribute("Include") == "ClockBound.Client").Attribute("Version")!.Value;

        // The sample's own nuget.config, with its feed moved to the one just packed; as shipped, it takes ClockBound.*
        // from that feed alone.
        string config = Path.Combine(Sample, "nuget.config");
        var nuget = XDocument.Load(config);
        var clockBoundSources = nuget.Descendants("packageSource")
            .Where(s => s.Elements("package").Any(p => (string?)p.Attribute("pattern") == "ClockBound.*"))
            .Select(s => (string?)s.Attribute("key")).ToList();
        if (clockBoundSources is not ["clockbound-local"])
            throw new InvalidOperationException($"samples/CommitWait/nuget.config must map ClockBound.* to clockbound-local alone, not to [{string.Join(", ", clockBoundSources)}]");
        nuget.Descendants("packageSources").Single().Elements("add").Single(a => (string?)a.Attribute("key") == "clockbound-local")
            .SetAttributeValue("value", Feed);
        nuget.Save(config);

        SampleBuild = await ToolRun.RunAsync("dotnet", ["build", Path.Combine(Sample, "CommitWait.csproj"), "-c", Configuration,
            "--packages", _directory.Combine("packages"), .. QuietBuild], BuildTimeout);
    }

    /// <summary>Errors only, and no build or compiler server left behind.</summary>
    private static readonly string[] QuietBuild = ["--nologo", "-v", "quiet", "-clp:ErrorsOnly", "-nodeReuse:false", "-p:UseSharedCompilation=false"];

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>
/// ClockBound.Client as a NuGet package: what the package carries, and samples/CommitWait built from it (outside the
/// solution) running against a segment written by the real daemon. In the end-to-end collection: its builds must not
/// race the install tests' publish, and must not run beside the end-to-end timing tests.
/// </summary>
[Collection(EndToEndCollection.Name)]
public sealed partial class ClientPackageSpecs(PackedClient packed, ITestOutputHelper output) : IClassFixture<PackedClient>, IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(20);
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2012/06/nuspec.xsd";
    private readonly TempDirectory _dir = new("cb-pkgrun");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Package_must_carry_the_readme_the_xml_docs_and_both_assemblies()
    {
        using var package = ZipFile.OpenRead(packed.Package);
        var entries = package.Entries.Select(e => e.FullName).ToHashSet();

        Assert.Contains("README.md", entries);
        Assert.Equal("README.md", Metadata(package).Element(Nuspec + "readme")?.Value);
        Assert.Contains("lib/net10.0/ClockBound.Client.dll", entries);
        Assert.Contains("lib/net10.0/ClockBound.Io.dll", entries);
        Assert.Contains("lib/net10.0/ClockBound.Client.xml", entries);
        Assert.Contains("M:ClockBound.Client.ClockBoundClient.Now", ReadEntry(package, "lib/net10.0/ClockBound.Client.xml"));
    }

    [Fact]
    public void Package_must_state_its_license_and_repository_type_and_depend_on_no_ClockBound_Io_package()
    {
        using var package = ZipFile.OpenRead(packed.Package);
        var metadata = Metadata(package);

        var license = metadata.Element(Nuspec + "license");
        Assert.Equal(("expression", "Apache-2.0"), ((string?)license?.Attribute("type"), license?.Value));
        Assert.Equal("git", (string?)metadata.Element(Nuspec + "repository")?.Attribute("type"));
        Assert.Equal(packed.Version, metadata.Element(Nuspec + "version")?.Value);
        var dependencies = metadata.Descendants(Nuspec + "dependency").Select(d => (string?)d.Attribute("id")).ToList();
        Assert.DoesNotContain("ClockBound.Io", dependencies);
    }

    [Fact]
    public void Symbols_package_must_hold_the_pdbs_of_both_assemblies()
    {
        using var symbols = ZipFile.OpenRead(packed.SymbolsPackage);
        var entries = symbols.Entries.Select(e => e.FullName).ToList();

        Assert.Contains("lib/net10.0/ClockBound.Client.pdb", entries);
        Assert.Contains("lib/net10.0/ClockBound.Io.pdb", entries);
    }

    [Fact]
    public async Task Package_readme_must_show_the_repository_READMEs_client_example_and_link_nothing_it_lacks()
    {
        using var package = ZipFile.OpenRead(packed.Package);
        string packageReadme = ReadEntry(package, "README.md");
        string readme = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "README.md"));
        string clientSection = readme[readme.IndexOf("## Client library (.NET)", StringComparison.Ordinal)..];

        Assert.Equal(CSharpBlock().Match(clientSection).Value, CSharpBlock().Match(packageReadme).Value);
        Assert.NotEqual("", CSharpBlock().Match(packageReadme).Value);
        Assert.DoesNotMatch(RelativeLink(), packageReadme);
    }

    [Fact]
    public async Task CommitWait_sample_built_from_the_package_must_wait_until_its_commit_timestamp_is_past_on_the_daemons_segment()
    {
        packed.SampleBuild.EnsureSuccess();
        string shm = _dir.Combine("clockbound", "shm0");
        using var vmclock = FakeVmClock.Create(_dir.Combine("vmclock0"), marker: 7);
        // The real daemon polls a scripted chronyd: a real chronyd pair on loopback gives a bound of some 10 µs, a
        // commit-wait shorter than the sample's start-up noise (its first timer alone took 12 ms once), so no run could
        // tell whether it waited. A root dispersion of 250 ms can.
        using var chronyd = new ScriptedChronyd(_dir.Combine("chronyd.sock"),
            r => [r.Command == ScriptedChronyd.Tracking ? TrackingWithRootDispersion(r, 0.25) : ChronyReplies.Status(r)]);
        await using var daemon = DaemonProcess.Start("--max-drift-rate", "50", "--chrony-socket", chronyd.SocketPath,
            "--shm-path", shm, "--vmclock-path", vmclock.Path);
        await daemon.WaitUntilAsync(() => RawSegment.TryRead(shm) is { ClockStatus: RawSegment.Synchronized }, Generous,
            "segment status Synchronized");

        long before = RealtimeNanoseconds();
        // With the VMClock path as the second argument: the segment says disruption support is on, so the client maps
        // the device, and the default /dev/vmclock0 does not exist here.
        var run = await ToolRun.RunAsync("dotnet", [packed.SampleDll, shm, vmclock.Path], Generous);
        long after = RealtimeNanoseconds();
        output.WriteLine(run.Stdout + run.Stderr);

        Assert.True(run.ExitCode == 0, $"CommitWait exited with {run.ExitCode}:\n{run.Stdout}{run.Stderr}");
        var now = NowLine().Match(run.Stdout);
        var done = DoneLine().Match(run.Stdout);
        Assert.True(now.Success && done.Success, run.Stdout);
        long bound = long.Parse(now.Groups["bound"].Value, CultureInfo.InvariantCulture);
        long commitTs = long.Parse(done.Groups["commitTs"].Value, CultureInfo.InvariantCulture);
        long waitedMs = long.Parse(done.Groups["waited"].Value, CultureInfo.InvariantCulture);
        Assert.InRange(bound, WideBoundNanoseconds, WideBoundNanoseconds + 10_000_000);
        // commitTs is the latest possible true time when the sample asked: this host's realtime then, plus the bound.
        Assert.InRange(commitTs, before + bound, after + bound);
        // Done only once the earliest possible true time (realtime less the bound then) passed commitTs: realtime moved
        // on by more than the bound since commitTs was taken (1 ms for the truncation to whole milliseconds).
        Assert.True(waitedMs >= bound / 1_000_000 - 1, $"waited {waitedMs} ms with a bound of {bound} ns");
        Assert.Equal("True", done.Groups["past"].Value);

        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task CommitWait_sample_must_exit_1_naming_the_segment_when_there_is_none()
    {
        packed.SampleBuild.EnsureSuccess();
        string missing = _dir.Combine("missing", "shm0");

        var run = await ToolRun.RunAsync("dotnet", [packed.SampleDll, missing], Generous);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"cannot use the ClockBound segment {missing}: SegmentNotInitialized", run.Stderr);
        Assert.Empty(run.Stdout);
    }

    private static XElement Metadata(ZipArchive package)
    {
        var nuspec = XDocument.Parse(ReadEntry(package, "ClockBound.Client.nuspec"));
        return nuspec.Root!.Element(Nuspec + "metadata") ?? throw new InvalidOperationException("the nuspec has no metadata");
    }

    private static string ReadEntry(ZipArchive package, string name)
    {
        var entry = package.GetEntry(name) ?? throw new InvalidOperationException($"{name} is not in the package");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    /// <summary>The bound of <see cref="TrackingWithRootDispersion"/> with 0.25 s: root delay / 2 + root dispersion +
    /// |correction| = 1.5 ms + 250 ms + 0.5 ms.</summary>
    private const long WideBoundNanoseconds = 252_000_000;

    /// <summary>A synchronised chronyd's tracking reply (<see cref="ChronyReplies.SynchronisedTracking"/>) with another
    /// root dispersion (seconds; at offset 96, docs/chrony-protocol.md).</summary>
    private static byte[] TrackingWithRootDispersion(ChronyRequest request, double seconds)
    {
        var reply = ChronyReplies.SynchronisedTracking(request);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(96), ChronyReplies.EncodeFloat(seconds));
        return reply;
    }

    private static long RealtimeNanoseconds() => (DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;

    [GeneratedRegex(@"```csharp\n.*?```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    /// <summary>A Markdown link to a path of the repository, which the package does not carry.</summary>
    [GeneratedRegex(@"\]\((?!https?://)[^)]*\)")]
    private static partial Regex RelativeLink();

    [GeneratedRegex(@"^now: \S+ \.\. \S+ \(±(?<bound>\d+) ns, Synchronized\)$", RegexOptions.Multiline)]
    private static partial Regex NowLine();

    [GeneratedRegex(@"^commit-wait done: commitTs=(?<commitTs>\d+) past=(?<past>\w+) waited (?<waited>\d+) ms$", RegexOptions.Multiline)]
    private static partial Regex DoneLine();
}
