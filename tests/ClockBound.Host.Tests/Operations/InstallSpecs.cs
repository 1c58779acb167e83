using System.Reflection.PortableExecutable;
using System.Xml.Linq;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.Operations;

/// <summary>One real <c>scripts/install.sh --destdir</c> run (it publishes a Release ReadyToRun build), shared by the class.</summary>
public sealed class PublishedInstall : IAsyncLifetime
{
    /// <summary>dotnet publish on a busy 2-core machine: generous, it only bounds a hang.</summary>
    internal static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    private readonly TempDirectory _directory = new("cb-install");

    /// <summary>The staging directory of the publishing install (--prefix /usr/local).</summary>
    public string Root => _directory.Combine("root");

    /// <summary>The published daemon as installed: reused with --publish-dir by the tests that install again.</summary>
    public string PublishedDirectory => Path.Combine(Root, "usr", "local", "lib", "clockbound");

    internal ToolResult Result { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Result = (await ToolRun.ScriptAsync("install.sh", PublishTimeout, "--destdir", Root, "--prefix", "/usr/local")).EnsureSuccess();

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>scripts/install.sh and scripts/uninstall.sh, staged with --destdir (the system is never touched).</summary>
public sealed class InstallSpecs(PublishedInstall installed) : IClassFixture<PublishedInstall>
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(1);
    private const string ShippedExecStart = "ExecStart=/usr/local/bin/clockbound";
    private const string ConfigPath = "etc/clockbound/clockbound.conf";
    private const string UnitPath = "etc/systemd/system/clockbound.service";
    private const string EditedLine = "\n# edited by the operator\n";

    [Fact]
    public async Task Install_must_link_prefix_bin_to_the_published_daemon_which_runs_from_there()
    {
        string link = Path.Combine(installed.Root, "usr", "local", "bin", "clockbound");
        Assert.Equal("../lib/clockbound/clockbound", new FileInfo(link).LinkTarget);
        string daemon = Path.Combine(installed.PublishedDirectory, "clockbound");
        Assert.True((File.GetUnixFileMode(daemon) & UnixFileMode.OtherExecute) != 0, $"{daemon} is not executable by everyone");

        var version = (await ToolRun.RunAsync(link, ["--version"], ScriptTimeout)).EnsureSuccess();
        Assert.StartsWith(HostVersion(), version.Stdout.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public void Install_must_publish_ReadyToRun_code()
    {
        Assert.True(HasReadyToRunCode(Path.Combine(installed.PublishedDirectory, "clockbound.dll")), "the installed clockbound.dll has no ReadyToRun code");
        // The check can fail: the IL-only build next to the tests has none.
        Assert.False(HasReadyToRunCode(Path.Combine(AppContext.BaseDirectory, "clockbound.dll")));
    }

    [Fact]
    public async Task Install_must_copy_the_shipped_configuration()
    {
        string config = Path.Combine(installed.Root, ConfigPath);
        Assert.Equal(await File.ReadAllBytesAsync(RepoPaths.Config("clockbound.conf")), await File.ReadAllBytesAsync(config));
    }

    [Fact]
    public async Task Install_must_pick_the_unit_for_this_machines_systemd_and_user_of_chronyd()
    {
        var systemctl = (await ToolRun.RunAsync("systemctl", ["--version"], ScriptTimeout)).EnsureSuccess();
        int version = int.Parse(systemctl.Stdout.Split('\n')[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        string expected = version >= 235 ? "clockbound.service" : "clockbound-pre235.service";
        var staged = await File.ReadAllLinesAsync(Path.Combine(installed.Root, UnitPath));

        // Everything but the user (which depends on the distribution) is the shipped unit.
        Assert.Equal(WithoutUser(await File.ReadAllLinesAsync(RepoPaths.Config(expected))), WithoutUser(staged));
        Assert.Contains($"{expected} for systemd {version}", installed.Result.Stdout);
        string user = staged.Single(l => l.StartsWith("User=", StringComparison.Ordinal))["User=".Length..];
        (await ToolRun.RunAsync("getent", ["passwd", user], ScriptTimeout)).EnsureSuccess();

        static IEnumerable<string> WithoutUser(IEnumerable<string> lines) =>
            lines.Where(l => !l.StartsWith("User=", StringComparison.Ordinal) && !l.StartsWith("Group=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Install_must_run_the_unit_as_the_given_chrony_user()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root, "--systemd-version", "234", "--chrony-user", "_chrony")).EnsureSuccess();

        var lines = await File.ReadAllLinesAsync(Path.Combine(root, UnitPath));
        Assert.Contains("User=_chrony", lines);
        Assert.Contains("ExecStartPre=/bin/chown _chrony:_chrony /var/run/clockbound", lines);
        Assert.DoesNotContain(lines, l => l.Contains("chrony:chrony", StringComparison.Ordinal) || l == "User=chrony");
    }

    [Theory]
    [InlineData("234", "clockbound-pre235.service")]
    [InlineData("235", "clockbound.service")]
    [InlineData("252", "clockbound.service")]
    public async Task Install_must_pick_the_unit_by_systemd_version_and_rewrite_ExecStart_for_the_prefix(string systemdVersion, string expected)
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root, "--prefix", "/opt/cb", "--systemd-version", systemdVersion, "--chrony-user", "chrony")).EnsureSuccess();

        string shipped = await File.ReadAllTextAsync(RepoPaths.Config(expected));
        Assert.Contains(ShippedExecStart, shipped);
        Assert.Equal(shipped.Replace(ShippedExecStart, "ExecStart=/opt/cb/bin/clockbound"), await File.ReadAllTextAsync(Path.Combine(root, UnitPath)));
        Assert.Equal("../lib/clockbound/clockbound", new FileInfo(Path.Combine(root, "opt", "cb", "bin", "clockbound")).LinkTarget);
    }

    [Theory]
    [InlineData("234")]
    [InlineData("252")]
    public async Task Staged_unit_must_pass_systemd_analyze_verify(string systemdVersion)
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root, "--systemd-version", systemdVersion)).EnsureSuccess();

        // verify checks that ExecStart is executable: point it at the staged link, which must resolve inside the stage.
        string unit = await File.ReadAllTextAsync(Path.Combine(root, UnitPath));
        string stagedLink = Path.Combine(root, "usr", "local", "bin", "clockbound");
        string copy = dir.Combine("clockbound.service");
        await File.WriteAllTextAsync(copy, unit.Replace(ShippedExecStart, "ExecStart=" + stagedLink));

        var verify = await ToolRun.RunAsync("systemd-analyze", ["verify", copy], ScriptTimeout);
        Assert.True(verify.ExitCode == 0, $"systemd-analyze verify failed ({verify.ExitCode}): {verify.Stderr}{verify.Stdout}");
        Assert.DoesNotContain("clockbound.service:", verify.Stderr);
    }

    [Fact]
    public async Task Uninstall_must_remove_everything_install_put_in_place_when_nothing_was_edited()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root)).EnsureSuccess();
        Assert.NotEmpty(FilesUnder(root));

        (await Uninstall(root)).EnsureSuccess();

        Assert.Empty(FilesUnder(root));
        Assert.False(Directory.Exists(Path.Combine(root, "etc", "clockbound")));
    }

    [Fact]
    public async Task Uninstall_must_keep_an_edited_configuration_and_remove_the_rest()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root)).EnsureSuccess();
        string config = Path.Combine(root, ConfigPath);
        await File.AppendAllTextAsync(config, EditedLine);
        string edited = await File.ReadAllTextAsync(config);

        var uninstall = (await Uninstall(root)).EnsureSuccess();

        Assert.Equal([ConfigPath], FilesUnder(root));
        Assert.Equal(edited, await File.ReadAllTextAsync(config));
        Assert.Contains("kept /etc/clockbound/clockbound.conf", uninstall.Stderr);
    }

    [Fact]
    public async Task Install_again_must_not_overwrite_an_edited_configuration()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root)).EnsureSuccess();
        string config = Path.Combine(root, ConfigPath);
        await File.AppendAllTextAsync(config, EditedLine);
        string edited = await File.ReadAllTextAsync(config);

        (await Install(root)).EnsureSuccess();
        Assert.Equal(edited, await File.ReadAllTextAsync(config));

        // Still the operator's file after the upgrade: uninstall keeps it.
        (await Uninstall(root)).EnsureSuccess();
        Assert.Equal([ConfigPath], FilesUnder(root));
    }

    [Fact]
    public async Task Install_again_over_an_unedited_configuration_must_still_let_uninstall_remove_it()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root)).EnsureSuccess();
        (await Install(root)).EnsureSuccess();

        (await Uninstall(root)).EnsureSuccess();

        Assert.Empty(FilesUnder(root));
    }

    [Fact]
    public async Task Install_must_keep_a_configuration_it_did_not_install_even_through_uninstall()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        string config = Path.Combine(root, ConfigPath);
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        const string operators = "clockbound { max-drift-rate = 50 }\n";
        await File.WriteAllTextAsync(config, operators);

        (await Install(root)).EnsureSuccess();
        Assert.Equal(operators, await File.ReadAllTextAsync(config));

        (await Uninstall(root)).EnsureSuccess();
        Assert.Equal([ConfigPath], FilesUnder(root));
    }

    [Fact]
    public async Task Install_under_another_prefix_must_replace_the_previous_tree_and_link()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        (await Install(root)).EnsureSuccess();
        (await Install(root, "--prefix", "/opt/cb")).EnsureSuccess();

        Assert.DoesNotContain(FilesUnder(root), f => f.StartsWith("usr/", StringComparison.Ordinal));
        Assert.Contains("opt/cb/bin/clockbound", FilesUnder(root));
    }

    [Fact]
    public async Task Install_must_refuse_to_replace_a_clockbound_binary_it_did_not_install()
    {
        using var dir = new TempDirectory("cb-install");
        string root = dir.Combine("root");
        string foreign = Path.Combine(root, "usr", "local", "bin", "clockbound");
        Directory.CreateDirectory(Path.GetDirectoryName(foreign)!);
        await File.WriteAllTextAsync(foreign, "the reference daemon");

        var install = await Install(root);

        Assert.NotEqual(0, install.ExitCode);
        Assert.Contains(foreign, install.Stderr);
        Assert.Equal("the reference daemon", await File.ReadAllTextAsync(foreign));
        Assert.False(Directory.Exists(Path.Combine(root, "usr", "local", "lib", "clockbound")));
    }

    [Fact]
    public async Task Uninstall_must_fail_with_a_clear_message_when_nothing_was_installed()
    {
        using var dir = new TempDirectory("cb-install");

        var uninstall = await Uninstall(dir.Path);

        Assert.NotEqual(0, uninstall.ExitCode);
        Assert.Contains("install-manifest not found", uninstall.Stderr);
    }

    private Task<ToolResult> Install(string root, params string[] extra) =>
        ToolRun.ScriptAsync("install.sh", ScriptTimeout, ["--destdir", root, "--publish-dir", installed.PublishedDirectory, .. extra]);

    private static Task<ToolResult> Uninstall(string root) => ToolRun.ScriptAsync("uninstall.sh", ScriptTimeout, "--destdir", root);

    /// <summary>Files and symbolic links under <paramref name="root"/>, relative, '/'-separated, sorted.</summary>
    private static List<string> FilesUnder(string root) =>
        new DirectoryInfo(root)
            .EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(info => info is FileInfo || info.LinkTarget is not null)
            .Select(info => Path.GetRelativePath(root, info.FullName).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    internal static bool HasReadyToRunCode(string assembly)
    {
        using var pe = new PEReader(File.OpenRead(assembly));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    /// <summary>The &lt;Version&gt; of src/Host, which <c>clockbound --version</c> prints first.</summary>
    internal static string HostVersion() =>
        XDocument.Load(Path.Combine(RepoPaths.Root, "src", "Host", "ClockBound.Host.csproj")).Descendants("Version").Single().Value;
}
