using System.Globalization;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.Systemd;

/// <summary>
/// A host as the daemon meets it in production, inside a <see cref="SystemdSandbox"/>: a chronyd pair run by systemd
/// (still <c>-x</c>, loopback only), the client as chronyd's real user with its socket at <c>/run/chrony/chronyd.sock</c>,
/// a VMClock file at <c>/dev/vmclock0</c>, and ClockBound.NET installed by <c>scripts/install.sh</c> (for real, no
/// <c>--destdir</c>) and run by systemd with its built-in defaults.
/// </summary>
internal sealed class ServiceWorld : IAsyncDisposable
{
    public const string Unit = "clockbound.service";
    public const string ShmInside = "/run/clockbound/shm0";
    public const string ChronyClientUnit = "cbtest-chrony-client.service";
    public const string ChronyServerUnit = "cbtest-chrony-server.service";

    /// <summary>The test's drop-in directory for the daemon's unit (inside: /etc/systemd/system/clockbound.service.d).</summary>
    public string DropInDirectory => Path.Combine(Systemd.UnitDirectory, $"{Unit}.d");

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>chronyd's server: local stratum 8 on 127.0.0.1. Its files live on the private /run.</summary>
    private const string ServerUnit = """
        [Unit]
        Description=test NTP server for ClockBound.NET (chronyd -x: never touches the clock)
        DefaultDependencies=no
        # Without default dependencies nothing else orders it after journald: its log would be lost.
        Wants=systemd-journald.socket
        After=systemd-journald.socket

        [Service]
        ExecStartPre=/usr/bin/install -d -o _chrony -g _chrony -m 0750 /run/cbtest-chrony-server
        ExecStart=/usr/sbin/chronyd -x -d -u _chrony -f /run/sandbox/chrony/server.conf
        """;

    /// <summary>chronyd's client, where the daemon expects it on a Debian host: /run/chrony/chronyd.sock.</summary>
    private const string ClientUnit = """
        [Unit]
        Description=test chronyd for ClockBound.NET (chronyd -x: never touches the clock)
        DefaultDependencies=no
        Wants=systemd-journald.socket
        After=systemd-journald.socket cbtest-chrony-server.service

        [Service]
        ExecStartPre=/usr/bin/install -d -o _chrony -g _chrony -m 0750 /run/chrony /run/cbtest-chrony-client
        ExecStart=/usr/sbin/chronyd -x -d -u _chrony -f /run/sandbox/chrony/client.conf
        """;

    private ServiceWorld(SystemdSandbox systemd, FakeVmClock vmClock)
    {
        Systemd = systemd;
        VmClock = vmClock;
    }

    public SystemdSandbox Systemd { get; }

    /// <summary>The VMClock file, bound at /dev/vmclock0 inside.</summary>
    public FakeVmClock VmClock { get; }

    /// <summary>The segment, as reached from outside the sandbox.</summary>
    public string ShmPath => Systemd.OutsidePath(ShmInside);

    /// <summary>Boots the sandbox, starts the chronyd pair and waits until the client is synchronised, puts the VMClock in
    /// place, and copies the published daemon where install.sh inside can take it (<c>/run/sandbox/publish</c>).</summary>
    public static async Task<ServiceWorld> StartAsync(string publishedDirectory)
    {
        var systemd = await SystemdSandbox.BootAsync(new Dictionary<string, string>
        {
            [ChronyServerUnit] = ServerUnit,
            [ChronyClientUnit] = ClientUnit,
        });
        FakeVmClock? vmClock = null;
        try
        {
            int port = ChronydSandbox.FreeUdpPort();
            string chrony = Path.Combine(systemd.DirectoryPath, "chrony");
            Directory.CreateDirectory(chrony);
            await File.WriteAllLinesAsync(Path.Combine(chrony, "server.conf"),
            [
                "local stratum 8", $"port {port}", "bindaddress 127.0.0.1", "allow 127.0.0.1", "cmdport 0",
                "bindcmdaddress /run/cbtest-chrony-server/chronyd.sock", "pidfile /run/cbtest-chrony-server/chronyd.pid",
                "driftfile /run/cbtest-chrony-server/drift",
            ]);
            await File.WriteAllLinesAsync(Path.Combine(chrony, "client.conf"),
            [
                // As the tests' chronyd pair (ChronydSandbox): every loopback sample is used, so updates are regular.
                $"server 127.0.0.1 port {port} iburst minpoll -2 maxpoll -2 maxdelaydevratio 1000000",
                "port 0", "bindacqaddress 127.0.0.1", "cmdport 0", "maxclockerror 50",
                "bindcmdaddress /run/chrony/chronyd.sock", "pidfile /run/chrony/chronyd.pid",
                "driftfile /run/cbtest-chrony-client/drift",
            ]);
            await systemd.SystemctlAsync("start", ChronyServerUnit, ChronyClientUnit);
            await systemd.WaitUntilAsync(async () => IsSynchronised(await systemd.RunAsync("chronyc", "-n", "tracking")),
                Patience, "the sandbox's chronyd synchronised", ChronyClientUnit);

            vmClock = FakeVmClock.Create(Path.Combine(systemd.DirectoryPath, "vmclock0"));
            (await systemd.RunAsync("sh", "-c", "touch /dev/vmclock0 && mount --bind /run/sandbox/vmclock0 /dev/vmclock0")).EnsureSuccess();

            // Hard links: the published tree and the sandbox's directory share the machine's /tmp.
            (await CommandRun.RunAsync("cp", ["-al", publishedDirectory, Path.Combine(systemd.DirectoryPath, "publish")], Patience)).EnsureSuccess();
            return new ServiceWorld(systemd, vmClock);
        }
        catch
        {
            vmClock?.Dispose();
            await systemd.DisposeAsync();
            throw;
        }
    }

    /// <summary>install.sh inside, for real (/usr/local, /etc/systemd/system, /etc/clockbound and /var/lib/clockbound are
    /// the sandbox's overlays), from the published tree.</summary>
    public async Task<CommandResult> InstallAsync() =>
        await Systemd.RunAsync("bash", $"{SystemdSandbox.InsideRepository}/scripts/install.sh", "--publish-dir", "/run/sandbox/publish");

    /// <summary>install.sh, daemon-reload, enable --now: what the README tells an operator to do.</summary>
    public async Task InstallAndEnableAsync()
    {
        (await InstallAsync()).EnsureSuccess();
        await Systemd.SystemctlAsync("daemon-reload");
        var enable = await Systemd.RunAsync("systemctl", "enable", "--now", Unit);
        if (enable.ExitCode != 0)
            throw new InvalidOperationException($"{enable.Command} exited with {enable.ExitCode}: {enable.Stderr}\n"
                                                + $"journal of {Unit}:\n{await Systemd.JournalAsync(Unit)}");
    }

    /// <summary>Adds a drop-in to the daemon's unit and reloads systemd (the unit is not restarted).</summary>
    public async Task AddDropInAsync(string name, string content)
    {
        Directory.CreateDirectory(DropInDirectory);
        await File.WriteAllTextAsync(Path.Combine(DropInDirectory, name), content);
        await Systemd.SystemctlAsync("daemon-reload");
    }

    /// <summary>The daemon's main PID as seen inside the sandbox (0 when it is not running).</summary>
    public async Task<int> MainPidAsync() => int.Parse(await Systemd.PropertyAsync(Unit, "MainPID"), CultureInfo.InvariantCulture);

    /// <summary>How often systemd has restarted the daemon.</summary>
    public async Task<int> RestartsAsync() => int.Parse(await Systemd.PropertyAsync(Unit, "NRestarts"), CultureInfo.InvariantCulture);

    /// <summary>Sends <paramref name="signal"/> (e.g. "STOP", "KILL") to the daemon, by its PID inside the sandbox.</summary>
    public async Task SignalDaemonAsync(string signal, int pid) =>
        (await Systemd.RunAsync("kill", $"-{signal}", pid.ToString(CultureInfo.InvariantCulture))).EnsureSuccess();

    /// <summary>The segment as the project's reader sees it now; null while there is none.</summary>
    public RawSegment? Segment => RawSegment.TryRead(ShmPath);

    /// <summary>Waits until the segment satisfies <paramref name="condition"/>; fails with the daemon's journal.</summary>
    public Task WaitForSegmentAsync(Func<RawSegment, bool> condition, string what, TimeSpan? timeout = null) =>
        Systemd.WaitUntilAsync(() => Task.FromResult(Segment is { } s && condition(s)), timeout ?? Patience, what, Unit);

    /// <summary>How many times the sandbox's chronyd client lost its samples (it logs this on "reset sources").</summary>
    public async Task<int> ChronydResetsAsync() => ChronydProcess.ResetsIn(await Systemd.JournalAsync(ChronyClientUnit));

    private static bool IsSynchronised(CommandResult tracking) =>
        tracking.ExitCode == 0 && tracking.Stdout.Contains("Reference ID    : 7F000001", StringComparison.Ordinal)
                               && tracking.Stdout.Contains("Leap status     : Normal", StringComparison.Ordinal);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Systemd.DisposeAsync();
        }
        finally
        {
            VmClock.Dispose();
        }
    }
}
