using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.Operations;

/// <summary>One plain <c>dotnet publish src/Host -c Release -o DIR</c> (no runtime identifier, no other option), shared by
/// the class. Its build goes to the temporary directory too (--artifacts-path), so it restores afresh and leaves the
/// source tree's obj/ and bin/ alone.</summary>
public sealed class PlainPublish : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("cb-publish");

    public string Output => _directory.Combine("out");

    internal ToolResult Result { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Result = (await ToolRun.RunAsync("dotnet", [
            "publish", Path.Combine(RepoPaths.Root, "src", "Host"), "-c", "Release", "-o", Output,
            "--artifacts-path", _directory.Combine("artifacts"), "--disable-build-servers", "--nologo",
        ], PublishedInstall.PublishTimeout)).EnsureSuccess();

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>A plain <c>dotnet publish src/Host</c> makes the build that scripts/install.sh and the daemon benchmark make:
/// ReadyToRun for this machine, framework-dependent, without restore warnings.</summary>
public sealed class PublishSpecs(PlainPublish published) : IClassFixture<PlainPublish>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData("clockbound.dll")]
    [InlineData("ClockBound.Io.dll")]
    [InlineData("ClockBound.Actors.dll")]
    [InlineData("ClockBound.Client.dll")]
    public void Plain_publish_must_compile_the_projects_assemblies_ReadyToRun(string assembly) =>
        Assert.True(InstallSpecs.HasReadyToRunCode(Path.Combine(published.Output, assembly)),
            $"{assembly} of a plain publish has no ReadyToRun code");

    [Fact]
    public async Task Plain_publish_must_be_framework_dependent_and_run_here()
    {
        Assert.False(File.Exists(Path.Combine(published.Output, "libcoreclr.so")), "the plain publish bundles the runtime");
        var version = (await ToolRun.RunAsync(Path.Combine(published.Output, "clockbound"), ["--version"], RunTimeout)).EnsureSuccess();
        Assert.StartsWith(InstallSpecs.HostVersion(), version.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void Restore_must_not_warn_about_substituted_dependency_versions() =>
        Assert.DoesNotContain("NU1603", published.Result.Stdout + published.Result.Stderr);
}
