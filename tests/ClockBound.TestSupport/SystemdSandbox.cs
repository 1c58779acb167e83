using System.Diagnostics;
using System.Text;

namespace ClockBound.TestSupport;

/// <summary>
/// A real systemd (Debian 12's 252) as PID 1 of private PID, mount, UTS, IPC and cgroup namespaces, managing units as on
/// a host: <c>Type=notify</c>, <c>WatchdogSec=</c>, <c>Restart=</c>, <c>RuntimeDirectory=</c>, <c>User=</c>, sandboxing,
/// <c>systemd-analyze security</c>. Commands run inside through <c>nsenter</c>; disposing kills its PID 1 by PID, and
/// every process inside dies with it.
/// </summary>
/// <remarks>
/// <para>A systemd booted on the machine's filesystem runs early-boot units that act on what it shares with the machine:
/// one that ran <c>systemd-tmpfiles-setup</c> emptied the machine's <c>/tmp</c>. So, all of it and not some of it:
/// every unit in <see cref="MaskedUnits"/> is masked; the early-boot targets in <see cref="EmptyTargets"/> are empty;
/// the namespace has its own <c>/run</c>, <c>/tmp</c>, <c>/var/tmp</c> and <c>/dev</c> (tmpfs, with only <c>null</c>,
/// <c>zero</c>, <c>full</c>, <c>random</c>, <c>urandom</c> and <c>tty</c> bound from the machine); <c>/etc</c>,
/// <c>/usr/local</c> and <c>/var</c> are overlays whose writes land in this sandbox's directory, so that
/// <c>scripts/install.sh</c> and <c>uninstall.sh</c> run for real and change nothing outside. The unit directory
/// <c>/etc/systemd/system</c> is this sandbox's own.</para>
/// <para>The sandbox's directory is visible inside at <see cref="InsidePath"/>; the repository at
/// <see cref="InsideRepository"/> (read-only). Files under the private <c>/run</c> are reached from outside through
/// <see cref="OutsidePath"/> (<c>/proc/PID/root</c>).</para>
/// </remarks>
public sealed class SystemdSandbox : IAsyncDisposable
{
    /// <summary>Where the sandbox's directory is bound inside the namespace (on the private /run, so never under /tmp).</summary>
    public const string InsidePath = "/run/sandbox";

    /// <summary>Where the repository is bound inside, read-only.</summary>
    public const string InsideRepository = "/run/sandbox-repo";

    /// <summary>Units that must never run in the sandbox (a chronyd without -x, tmpfiles, udev, sysctl, ...).</summary>
    public static readonly IReadOnlyList<string> MaskedUnits =
    [
        "chrony.service", "chronyd.service", "systemd-timesyncd.service",
        "systemd-tmpfiles-setup.service", "systemd-tmpfiles-setup-dev.service", "systemd-tmpfiles-setup-dev-early.service",
        "systemd-tmpfiles-clean.service", "systemd-sysctl.service", "systemd-udevd.service", "systemd-udev-trigger.service",
        "systemd-udev-settle.service", "systemd-modules-load.service", "modprobe@.service", "systemd-binfmt.service",
        "systemd-remount-fs.service", "systemd-random-seed.service", "systemd-hwdb-update.service",
        "systemd-firstboot.service", "systemd-sysusers.service", "systemd-journal-flush.service",
        "systemd-update-utmp.service", "ldconfig.service", "systemd-machine-id-commit.service", "systemd-fsck-root.service",
        "systemd-pstore.service", "systemd-boot-update.service", "systemd-pcrphase.service",
        "systemd-pcrphase-sysinit.service",
        "systemd-tmpfiles-clean.timer", "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
        "systemd-journald-dev-log.socket", "dev-hugepages.mount", "dev-mqueue.mount", "sys-kernel-debug.mount",
        "sys-kernel-tracing.mount", "sys-kernel-config.mount", "sys-fs-fuse-connections.mount", "tmp.mount",
        "proc-sys-fs-binfmt_misc.automount",
    ];

    /// <summary>Early-boot targets replaced by empty ones, so that nothing they would pull in runs.</summary>
    public static readonly IReadOnlyList<string> EmptyTargets =
    [
        "sysinit", "basic", "sockets", "timers", "paths", "local-fs", "local-fs-pre", "swap", "cryptsetup",
        "integritysetup", "veritysetup", "remote-fs", "network-pre", "getty",
    ];

    /// <summary>The units active in an idle sandbox besides the test's own: journald, the sandbox's target, the empty
    /// targets, slices and scopes, the password-agent watchers of the private /run, and units that only reflect what
    /// exists (the namespace's mounts, the sandbox's own tmpfs at /tmp among them, and devices, whose units stay
    /// "activating" for want of udev). Anything else active is a unit that should not have run.</summary>
    public static bool IsExpectedInfrastructure(string unit) =>
        unit.StartsWith("systemd-journald", StringComparison.Ordinal)
        || unit.StartsWith("systemd-ask-password-", StringComparison.Ordinal) && unit.EndsWith(".path", StringComparison.Ordinal)
        || unit == "sandbox.target" || unit == "init.scope"
        || unit.EndsWith(".slice", StringComparison.Ordinal)
        || unit.EndsWith(".mount", StringComparison.Ordinal)
        || unit.EndsWith(".device", StringComparison.Ordinal)
        || unit.EndsWith(".target", StringComparison.Ordinal) && EmptyTargets.Contains(unit[..^".target".Length]);

    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(3);

    private readonly TempDirectory _directory;
    private readonly Process _unshare;

    private SystemdSandbox(TempDirectory directory, Process unshare, int systemdPid)
    {
        _directory = directory;
        _unshare = unshare;
        Pid = systemdPid;
    }

    /// <summary>The PID (as seen from outside) of systemd, PID 1 of the sandbox's namespaces.</summary>
    public int Pid { get; }

    /// <summary>The sandbox's directory as seen from outside (bound at <see cref="InsidePath"/> inside).</summary>
    public string DirectoryPath => _directory.Path;

    /// <summary>The unit directory (/etc/systemd/system inside).</summary>
    public string UnitDirectory => _directory.Combine("units");

    /// <summary>A path inside the namespace, as reached from outside (through /proc/PID/root).</summary>
    public string OutsidePath(string insidePath) => $"/proc/{Pid}/root{insidePath}";

    /// <summary>systemd's own output (its boot log and the units' output that is not in the journal).</summary>
    public string ReadBootLog() => ReadLog(_directory);

    /// <summary>Boots systemd with the masks, the empty targets and <paramref name="units"/> (file name → content) in its
    /// unit directory, and waits until it has reached <c>sandbox.target</c>.</summary>
    public static async Task<SystemdSandbox> BootAsync(IReadOnlyDictionary<string, string>? units = null)
    {
        var directory = new TempDirectory("cbsd");
        Process? unshare = null;
        try
        {
            WriteUnits(directory, units ?? new Dictionary<string, string>());
            string boot = directory.Combine("boot.sh");
            await File.WriteAllTextAsync(boot, BootScript(directory.Path));
            File.SetUnixFileMode(boot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var psi = new ProcessStartInfo("unshare")
            {
                RedirectStandardOutput = false,
                RedirectStandardError = false,
                RedirectStandardInput = true, // not the test host's stdin
                UseShellExecute = false,
            };
            foreach (var a in (string[])["--pid", "--fork", "--mount", "--uts", "--ipc", "--cgroup", "--mount-proc", boot])
                psi.ArgumentList.Add(a);
            unshare = Process.Start(psi) ?? throw new InvalidOperationException("unshare did not start");
            int pid = await WaitForSystemdAsync(unshare, directory);
            var sandbox = new SystemdSandbox(directory, unshare, pid);
            await sandbox.WaitBootedAsync();
            return sandbox;
        }
        catch
        {
            if (unshare is not null) KillNamespace(unshare, directory);
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="command"/> inside the sandbox's mount and PID namespaces.</summary>
    public Task<CommandResult> RunAsync(params string[] command) => RunAsync(command, CommandTimeout);

    public Task<CommandResult> RunAsync(IReadOnlyList<string> command, TimeSpan timeout) =>
        CommandRun.RunAsync("nsenter",
            ["-t", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", "-p", "-u", "-i", "--", .. command], timeout);

    /// <summary><c>systemctl</c> inside; throws with its output unless it exits 0.</summary>
    public async Task<string> SystemctlAsync(params string[] arguments) =>
        (await RunAsync(["systemctl", .. arguments])).EnsureSuccess().Stdout;

    /// <summary>One property of a unit (<c>systemctl show -p NAME --value</c>).</summary>
    public async Task<string> PropertyAsync(string unit, string property) =>
        (await SystemctlAsync("show", unit, "-p", property, "--value")).Trim();

    /// <summary>The unit's journal (all of it).</summary>
    public async Task<string> JournalAsync(string unit) =>
        (await RunAsync("journalctl", "-u", unit, "--no-pager", "-o", "short-precise")).Stdout;

    /// <summary>The command lines of every process in the sandbox.</summary>
    public async Task<IReadOnlyList<string>> ProcessesAsync() =>
        (await RunAsync("ps", "-eo", "pid=,args=")).EnsureSuccess().Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Units whose active state is not "inactive" (name and state).</summary>
    public async Task<IReadOnlyList<(string Unit, string State)>> ActiveUnitsAsync()
    {
        string list = await SystemctlAsync("list-units", "--all", "--no-legend", "--plain", "--no-pager");
        return list.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 3 && f[2] != "inactive")
            .Select(f => (f[0], f[2]))
            .ToList();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with the unit's journal otherwise.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, string? unit = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > timeout)
                throw new TimeoutException($"in the systemd sandbox: {what}: not within {timeout}"
                                           + (unit is null ? "" : $"\njournal of {unit}:\n{await JournalAsync(unit)}"));
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillNamespace(_unshare, _directory);
        await _unshare.WaitForExitAsync();
        _unshare.Dispose();
        _directory.Dispose();
    }

    private async Task WaitBootedAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var state = await RunAsync(["systemctl", "is-active", "sandbox.target"], TimeSpan.FromSeconds(10));
            if (state.Stdout.Trim() == "active") return;
            if (stopwatch.Elapsed > BootTimeout)
                throw new TimeoutException($"systemd in the sandbox did not reach sandbox.target within {BootTimeout}: {state.Stdout}{state.Stderr}\n{ReadBootLog()}");
            await Task.Delay(50);
        }
    }

    /// <summary>unshare's child is the namespace's PID 1: boot.sh, which execs systemd. Found by PID, never by name.</summary>
    private static async Task<int> WaitForSystemdAsync(Process unshare, TempDirectory directory)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (unshare.HasExited)
                throw new InvalidOperationException($"unshare exited with {unshare.ExitCode}: {ReadLog(directory)}");
            if (ChildOf(unshare) is { } child)
            {
                string cmdline = File.Exists($"/proc/{child}/cmdline") ? await File.ReadAllTextAsync($"/proc/{child}/cmdline") : "";
                if (cmdline.StartsWith("/lib/systemd/systemd\0", StringComparison.Ordinal)) return child;
            }
            if (stopwatch.Elapsed > BootTimeout)
                throw new TimeoutException($"systemd did not start in the sandbox within {BootTimeout}: {ReadLog(directory)}");
            await Task.Delay(20);
        }
    }

    /// <summary>SIGKILL to the namespace's PID 1 (SIGTERM does not stop a PID 1 systemd): every process inside dies.</summary>
    private static void KillNamespace(Process unshare, TempDirectory directory)
    {
        try
        {
            if (!unshare.HasExited && ChildOf(unshare) is { } pid)
                Process.GetProcessById(pid).Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            // already gone
        }
        if (!unshare.WaitForExit(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException($"the systemd sandbox's unshare (pid {unshare.Id}) did not end: {ReadLog(directory)}");
    }

    /// <summary>unshare's (only) child, by PID; null while it has none.</summary>
    private static int? ChildOf(Process unshare)
    {
        string children = $"/proc/{unshare.Id}/task/{unshare.Id}/children";
        string text = File.Exists(children) ? File.ReadAllText(children) : "";
        return int.TryParse(text.Trim().Split(' ')[0], out int child) ? child : null;
    }

    private static string ReadLog(TempDirectory directory)
    {
        string path = directory.Combine("systemd.log");
        return File.Exists(path) ? File.ReadAllText(path) : "(no log)";
    }

    private static void WriteUnits(TempDirectory directory, IReadOnlyDictionary<string, string> units)
    {
        string dir = directory.Combine("units");
        Directory.CreateDirectory(dir);
        foreach (string unit in MaskedUnits)
            File.CreateSymbolicLink(Path.Combine(dir, unit), "/dev/null");
        foreach (string target in EmptyTargets)
            File.WriteAllText(Path.Combine(dir, $"{target}.target"), "[Unit]\nDefaultDependencies=no\n");
        File.WriteAllText(Path.Combine(dir, "sandbox.target"), "[Unit]\nDescription=test sandbox\nDefaultDependencies=no\n");
        foreach (var (name, content) in units)
            File.WriteAllText(Path.Combine(dir, name), content);
    }

    /// <summary>The namespace's PID 1 until it execs systemd: the private mounts of "Danger first", in an order where
    /// each source is still visible when it is bound.</summary>
    private static string BootScript(string d)
    {
        var s = new StringBuilder();
        s.AppendLine("#!/bin/sh");
        s.AppendLine("set -eu");
        s.AppendLine($"D='{d}'");
        s.AppendLine("exec >\"$D/systemd.log\" 2>&1");
        // Nothing mounted here may propagate back to the machine.
        s.AppendLine("mount --make-rprivate /");
        foreach (string dir in (string[])["etc", "usr/local", "var"])
        {
            string name = dir.Replace('/', '-');
            s.AppendLine($"mkdir -p \"$D/overlay/{name}.up\" \"$D/overlay/{name}.work\"");
            s.AppendLine($"mount -t overlay overlay -o \"lowerdir=/{dir},upperdir=$D/overlay/{name}.up,workdir=$D/overlay/{name}.work\" /{dir}");
        }
        s.AppendLine("mount --bind \"$D/units\" /etc/systemd/system");
        // The private /dev: the six nodes are kept aside (bound in the sandbox's directory), /dev is replaced, and they
        // are bound back, with what systemd's own private /dev setups expect to find (pts, ptmx, shm, fd).
        s.AppendLine("mkdir -p \"$D/devnodes\"");
        s.AppendLine("for n in null zero full random urandom tty; do touch \"$D/devnodes/$n\"; mount --bind \"/dev/$n\" \"$D/devnodes/$n\"; done");
        s.AppendLine("mount -t tmpfs -o mode=755 tmpfs /dev");
        s.AppendLine("for n in null zero full random urandom tty; do touch \"/dev/$n\"; mount --bind \"$D/devnodes/$n\" \"/dev/$n\"; done");
        s.AppendLine("mkdir -p /dev/shm /dev/pts && mount -t tmpfs -o mode=1777 tmpfs /dev/shm");
        s.AppendLine("ln -s pts/ptmx /dev/ptmx && ln -s /proc/self/fd /dev/fd");
        s.AppendLine($"repo='{RepoPaths.Root}'");
        s.AppendLine("mount -t tmpfs -o mode=755 tmpfs /run");
        s.AppendLine($"mkdir -p {InsidePath} {InsideRepository}");
        s.AppendLine($"mount --bind \"$D\" {InsidePath}");
        s.AppendLine($"mount --bind \"$repo\" {InsideRepository} && mount -o remount,bind,ro {InsideRepository}");
        s.AppendLine("mount -t tmpfs -o mode=1777 tmpfs /tmp");
        s.AppendLine("mount -t tmpfs -o mode=1777 tmpfs /var/tmp");
        s.AppendLine("exec env container=other /lib/systemd/systemd --system --unit=sandbox.target");
        return s.ToString();
    }
}
