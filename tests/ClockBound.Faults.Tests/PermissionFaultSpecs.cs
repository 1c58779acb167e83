using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Faults.Tests;

/// <summary>
/// Permissions and the daemon's footprint (issue 5, fault 8): a user who may not use chronyd's socket or write the segment's
/// directory gets one clear line and exit code 1; the segment is world-readable; the daemon's own chrony client socket goes
/// away with it; it opens no network socket. The non-root cases start the daemon as nobody through setpriv, which needs
/// root: as another user these tests fail with a message saying so (CI runs as root).
/// </summary>
public sealed class PermissionFaultSpecs(ITestOutputHelper output)
{
    private const UnixFileMode Mode0644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Mode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode0711 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                          UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode Mode0755 = Mode0711 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode Mode1777 = Mode0755 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite | UnixFileMode.StickyBit;

    /// <summary>What to do, said once at the end of the line.</summary>
    private const string ChronyPermissionHint = ": run as root or as chronyd's user (e.g. User=chrony in the unit)";

    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The /proc/PID/net tables of IP sockets (some may be absent when the kernel lacks the protocol).</summary>
    private static readonly string[] IpSocketTables = ["tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6"];

    [Fact]
    public async Task Daemon_must_refuse_to_start_when_its_user_may_not_reach_chronyds_socket_directory()
    {
        Os.RequireRoot("the daemon is started as nobody through setpriv");
        // chronyd's socket directory is private to its user, as /run/chrony is (0750 _chrony): the daemon cannot even put
        // its own client socket next to chronyd's, as it does by default (like chronyc).
        await using var scenario = await DaemonScenario.StartAsync(synchronised: false);
        var daemon = scenario.StartDaemon(Os.AsNobody, "--disable-clock-disruption-support");

        int exitCode = await daemon.WaitForExitAsync(ExitTimeout);
        output.WriteLine(daemon.OutputText);
        Assert.Equal(1, exitCode);
        var error = Assert.Single(daemon.Output, line => line.Contains(" FTL ", StringComparison.Ordinal));
        Assert.Contains(scenario.Sandbox.ClientSocketPath, error);
        Assert.Contains("no permission to create client socket", error);
        Assert.Contains("as user nobody", error);
        Assert.EndsWith(ChronyPermissionHint, error);
        Assert.False(File.Exists(scenario.ShmPath), "a daemon that refused to start created the segment");
    }

    [Fact]
    public async Task Daemon_must_refuse_to_start_when_its_user_may_not_write_chronyds_socket()
    {
        Os.RequireRoot("the daemon is started as nobody through setpriv");
        await using var scenario = await DaemonScenario.StartAsync(synchronised: false);
        // Everything on the way is traversable and the daemon has a directory for its client socket; only chronyd's socket
        // itself is root's alone.
        File.SetUnixFileMode(scenario.Directory.Path, Mode0711);
        File.SetUnixFileMode(scenario.Sandbox.DirectoryPath, Mode0711);
        File.SetUnixFileMode(Path.GetDirectoryName(scenario.Sandbox.ClientSocketPath)!, Mode0711);
        File.SetUnixFileMode(scenario.Sandbox.ClientSocketPath, Mode0600);
        string clientSockets = scenario.Directory.Combine("sockets");
        Directory.CreateDirectory(clientSockets);
        File.SetUnixFileMode(clientSockets, Mode1777);
        string config = scenario.Directory.Combine("clockbound.conf");
        File.WriteAllText(config, $"clockbound.chrony-client-socket-dir = \"{clientSockets}\"\n");

        var daemon = scenario.StartDaemon(Os.AsNobody, "--disable-clock-disruption-support", "--config", config);

        int exitCode = await daemon.WaitForExitAsync(ExitTimeout);
        output.WriteLine(daemon.OutputText);
        Assert.Equal(1, exitCode);
        var error = Assert.Single(daemon.Output, line => line.Contains(" FTL ", StringComparison.Ordinal));
        Assert.Contains($"no permission to use chronyd socket {scenario.Sandbox.ClientSocketPath} as user nobody", error);
        Assert.EndsWith(ChronyPermissionHint, error);
        Assert.False(File.Exists(scenario.ShmPath), "a daemon that refused to start created the segment");
        Assert.Empty(Directory.GetFiles(clientSockets)); // its client socket did not outlive the failed start
    }

    [Fact]
    public async Task Daemon_must_refuse_to_start_when_its_user_may_not_write_the_segment_directory()
    {
        Os.RequireRoot("the daemon is started as nobody through setpriv");
        using var directory = new TempDirectory("cbp");
        File.SetUnixFileMode(directory.Path, Mode0711);
        string segmentDirectory = directory.Combine("run");
        Directory.CreateDirectory(segmentDirectory);
        File.SetUnixFileMode(segmentDirectory, Mode0755); // root's: nobody may read it, not write it
        string shmPath = Path.Combine(segmentDirectory, "shm0");
        // No chronyd at all (it may start after the daemon: only a warning), so that the segment is what fails.
        string sockets = directory.Combine("sockets");
        Directory.CreateDirectory(sockets);
        File.SetUnixFileMode(sockets, Mode1777);

        await using var daemon = DaemonProcess.StartVia(Os.AsNobody, [
            "--max-drift-rate", "50", "--disable-clock-disruption-support",
            "--chrony-socket", Path.Combine(sockets, "chronyd.sock"), "--shm-path", shmPath,
        ]);

        int exitCode = await daemon.WaitForExitAsync(ExitTimeout);
        output.WriteLine(daemon.OutputText);
        Assert.Equal(1, exitCode);
        var error = Assert.Single(daemon.Output, line => line.Contains(" FTL ", StringComparison.Ordinal));
        Assert.Contains(shmPath, error);
        Assert.Contains("Permission denied", error);
        Assert.Empty(Directory.GetFileSystemEntries(segmentDirectory));
    }

    [Fact]
    public async Task Segment_must_be_0644_under_a_restrictive_umask_and_readable_by_another_user()
    {
        Os.RequireRoot("the reader runs as nobody through setpriv");
        await using var scenario = await DaemonScenario.StartAsync();
        // The segment's directory as systemd's RuntimeDirectory makes it (0755); the way there traversable.
        File.SetUnixFileMode(scenario.Directory.Path, Mode0711);
        string runDirectory = Path.GetDirectoryName(scenario.ShmPath)!;
        Directory.CreateDirectory(runDirectory);
        File.SetUnixFileMode(runDirectory, Mode0755);

        string[] umask077 = ["/bin/sh", "-c", "umask 077 && exec \"$0\" \"$@\""];
        var daemon = scenario.StartDaemon(umask077);
        await scenario.WaitSynchronizedAsync(daemon);

        Assert.Equal(Mode0644, File.GetUnixFileMode(scenario.ShmPath));
        await using var reader = ReaderProcessRun.Start("reader as nobody", ["read", scenario.ShmPath, scenario.VmClock.Path, "30", "1000"], Os.AsNobody);
        var (exitCode, summary) = await reader.WaitForSummaryAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(reader.OutputText);
        Assert.True(exitCode == 0 && summary.Clean, $"reader as nobody: exit {exitCode}, {summary.FirstProblem}");
        Assert.Equal(1000, summary.Count);
        Assert.Equal(["Synchronized"], summary.Statuses.Keys);
    }

    [Fact]
    public async Task Daemon_must_hold_no_network_socket_and_remove_its_chrony_client_socket_on_SIGTERM()
    {
        await using var scenario = await DaemonScenario.StartAsync();
        var daemon = scenario.StartDaemon();
        await scenario.WaitSynchronizedAsync(daemon);

        var sockets = Os.SocketInodes(daemon.Pid);
        foreach (var table in IpSocketTables.Where(t => File.Exists($"/proc/{daemon.Pid}/net/{t}")))
        {
            var open = Os.NetTable(daemon.Pid, table).Where(e => sockets.Contains(e.Key)).Select(e => e.Value).ToList();
            Assert.True(open.Count == 0, $"the daemon holds {table} sockets:\n{string.Join('\n', open)}");
        }

        // The check sees the daemon's sockets: its chrony client socket is among them, next to chronyd's socket.
        string clientSocketPrefix = Path.Combine(Path.GetDirectoryName(scenario.Sandbox.ClientSocketPath)!, $"clockbound.{daemon.Pid}.");
        var unix = Os.NetTable(daemon.Pid, "unix").Where(e => sockets.Contains(e.Key)).Select(e => e.Value).ToList();
        output.WriteLine($"the daemon's Unix sockets:\n{string.Join('\n', unix)}");
        Assert.Contains(unix, line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].StartsWith(clientSocketPrefix, StringComparison.Ordinal));
        Assert.NotEmpty(ClientSocketFiles(scenario, daemon.Pid));

        daemon.Signal(DaemonProcess.SIGTERM);
        Assert.Equal(0, await daemon.WaitForExitAsync(ExitTimeout));
        Assert.Empty(ClientSocketFiles(scenario, daemon.Pid));
    }

    private static string[] ClientSocketFiles(DaemonScenario scenario, int pid) =>
        Directory.GetFiles(Path.GetDirectoryName(scenario.Sandbox.ClientSocketPath)!, $"clockbound.{pid}.*.sock");
}
