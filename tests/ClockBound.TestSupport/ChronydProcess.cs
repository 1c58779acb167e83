using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ClockBound.TestSupport;

/// <summary>
/// One real chronyd in its own directory (config, command socket, pidfile, driftfile, log), always with <c>-x</c> (never
/// touches the system clock) and loopback only. chronyd daemonizes: it is stopped by the PID in its pidfile, after checking
/// that the PID still runs our config.
/// </summary>
public sealed partial class ChronydProcess : IDisposable
{
    public const string ChronydPath = "/usr/sbin/chronyd";
    public const string ChronycPath = "/usr/bin/chronyc";

    private const int SIGTERM = 15;
    private const int SIGKILL = 9;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ChronycTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    private readonly string _configPath;
    private readonly string _logPath;
    private readonly string _pidPath;
    private readonly EventHandler _stopOnExit;

    /// <summary>Creates the directory (mode 0700, owned by the current user as chronyd requires) and writes the config:
    /// <paramref name="configLines"/> plus the command socket, pidfile and driftfile lines.</summary>
    public ChronydProcess(string name, string directory, IEnumerable<string> configLines)
    {
        if (!File.Exists(ChronydPath) || !File.Exists(ChronycPath))
            throw new InvalidOperationException($"{ChronydPath} or {ChronycPath} is missing: install Debian's chrony package (apt-get install -y chrony)");

        Name = name;
        Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        SocketPath = Path.Combine(directory, "chronyd.sock");
        _configPath = Path.Combine(directory, "chrony.conf");
        _logPath = Path.Combine(directory, "chronyd.log");
        _pidPath = Path.Combine(directory, "chronyd.pid");
        File.WriteAllLines(_configPath, [
            .. configLines,
            "cmdport 0", // no UDP command port: the Unix socket only
            $"bindcmdaddress {SocketPath}",
            $"pidfile {_pidPath}",
            $"driftfile {Path.Combine(directory, "chronyd.drift")}",
        ]);
        _stopOnExit = (_, _) => Stop();
        AppDomain.CurrentDomain.ProcessExit += _stopOnExit;
    }

    public string Name { get; }

    /// <summary>chronyd's command socket.</summary>
    public string SocketPath { get; }

    /// <summary>The PID of the running chronyd (from its pidfile, checked against /proc), or null.</summary>
    public int? Pid => RunningPid();

    /// <summary>Starts chronyd and waits until its pidfile and command socket exist. Throws with the log on failure.</summary>
    public async Task StartAsync()
    {
        if (RunningPid() is { } running) throw new InvalidOperationException($"chronyd {Name} already runs as PID {running}");
        File.Delete(SocketPath);

        var user = Environment.UserName;
        var arguments = new List<string> { "-4", "-x" };
        if (user != "root") arguments.Add("-U"); // allow a non-root start
        arguments.AddRange(["-u", user, "-f", _configPath, "-l", _logPath]);

        using var deadline = new CancellationTokenSource(StartTimeout);
        // Without -d chronyd forks after initialisation; the parent exits with chronyd's start-up status.
        var (exitCode, output) = await RunAsync(ChronydPath, arguments, deadline.Token);
        if (exitCode != 0)
            throw new InvalidOperationException($"chronyd {Name} exited with {exitCode}: {output} {ReadLog()}");

        while (!(RunningPid() is not null && File.Exists(SocketPath)))
        {
            if (deadline.IsCancellationRequested)
            {
                Stop();
                throw new TimeoutException($"chronyd {Name} did not create {SocketPath} within {StartTimeout}: {ReadLog()}");
            }
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Stops chronyd (SIGTERM, then SIGKILL after 5 s) by the PID in its pidfile; does nothing if it does not run.</summary>
    public void Stop()
    {
        if (RunningPid() is not { } pid) return;
        if (!SignalAndWait(pid, SIGTERM) && !SignalAndWait(pid, SIGKILL))
            throw new InvalidOperationException($"chronyd {Name} (PID {pid}) survived SIGKILL");
        // After SIGKILL chronyd leaves its pidfile and socket behind.
        File.Delete(_pidPath);
        File.Delete(SocketPath);
    }

    /// <summary>Runs <c>chronyc -n -h SOCKET args</c>; returns its output, throws if it fails.</summary>
    public async Task<string> RunChronycAsync(params string[] args)
    {
        using var deadline = new CancellationTokenSource(ChronycTimeout);
        var (exitCode, output) = await RunAsync(ChronycPath, ["-n", "-h", SocketPath, .. args], deadline.Token);
        if (exitCode != 0)
            throw new InvalidOperationException($"chronyc -h {SocketPath} {string.Join(' ', args)} exited with {exitCode}: {output}");
        return output;
    }

    /// <summary>chronyd's tracking state as chronyc decodes it.</summary>
    public async Task<ChronydTracking> GetTrackingAsync() => ChronydTracking.Parse(await RunChronycAsync("-c", "tracking"));

    public string ReadLog() => File.Exists(_logPath) ? File.ReadAllText(_logPath) : "(no log)";

    /// <summary>How often <paramref name="log"/> (a chronyd log, or its journal) shows that its sources were reset:
    /// chronyd logs this line when <c>reset sources</c> has dropped its only source's samples.</summary>
    public static int ResetsIn(string log) => CountOf(log, "Can't synchronise: no selectable sources");

    private static int CountOf(string text, string line)
    {
        int count = 0;
        for (int at = text.IndexOf(line, StringComparison.Ordinal); at >= 0; at = text.IndexOf(line, at + line.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= _stopOnExit;
        Stop();
    }

    /// <summary>The PID in the pidfile if that process is alive and is a chronyd running our config; else null.</summary>
    private int? RunningPid()
    {
        try
        {
            if (!int.TryParse(File.ReadAllText(_pidPath).Trim(), out var pid)) return null;
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0');
            return commandLine.Contains(ChronydPath) && commandLine.Contains(_configPath) && IsAlive(pid) ? pid : null;
        }
        catch (IOException) { return null; }
    }

    /// <summary>Alive = /proc entry present and not a zombie (the container's init may never reap chronyd).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }

    private static bool SignalAndWait(int pid, int signal)
    {
        if (Kill(pid, signal) != 0) return !IsAlive(pid);
        var stopwatch = Stopwatch.StartNew();
        while (IsAlive(pid))
        {
            if (stopwatch.Elapsed > StopTimeout) return false;
            Thread.Sleep(PollInterval);
        }
        return true;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(startInfo)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
            output.Append(await stdout).Append(await stderr);
        }
        catch (OperationCanceledException)
        {
            process.Kill(); // our own child, by its handle
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in time");
        }
        return (process.ExitCode, output.ToString().Trim());
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
