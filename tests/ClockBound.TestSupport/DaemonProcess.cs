using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ClockBound.TestSupport;

/// <summary>
/// A real <c>clockbound</c> child process: output captured line by line, stopped by PID with a real signal.
/// Disposing kills it (SIGKILL) if it is still running, so no test leaves a daemon behind.
/// </summary>
public sealed partial class DaemonProcess : IAsyncDisposable
{
    public const int SIGKILL = 9;
    public const int SIGUSR1 = 10;
    public const int SIGUSR2 = 12;
    public const int SIGTERM = 15;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private DaemonProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the daemon printed so far (stdout and stderr interleaved).</summary>
    public IReadOnlyList<string> Output => [.. _lines];

    public string OutputText => string.Join('\n', _lines);

    public static DaemonProcess Start(params string[] arguments) => Start(arguments, environment: null);

    public static DaemonProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment) =>
        StartVia([], arguments, environment);

    /// <summary>Starts the daemon as another user (uid and gid, no supplementary groups) through util-linux's
    /// <c>setpriv</c>, e.g. to meet a permission a root test process would bypass. Needs root.</summary>
    public static DaemonProcess StartAs(int uid, int gid, params string[] arguments) =>
        StartVia(["/usr/bin/setpriv", "--reuid", $"{uid}", "--regid", $"{gid}", "--clear-groups"], arguments);

    /// <summary>Starts the daemon through <paramref name="launcher"/>: a program with its arguments that execs the daemon
    /// path given after them (e.g. <c>setpriv --reuid=nobody ...</c> or <c>sh -c 'umask 077; exec "$0" "$@"'</c>), so that
    /// the PID is the daemon's. An empty launcher starts the daemon directly. A launcher may switch to another user, so
    /// through one the daemon runs from <see cref="BuildCopyForOtherUsers"/>, which every user can reach.</summary>
    public static DaemonProcess StartVia(IReadOnlyList<string> launcher, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : RepoPaths.Daemon)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (launcher.Count > 0)
        {
            foreach (var argument in launcher.Skip(1)) psi.ArgumentList.Add(argument);
            psi.ArgumentList.Add(BuildCopyForOtherUsers.PathOf(Path.GetFileName(RepoPaths.Daemon)));
        }
        foreach (var argument in arguments) psi.ArgumentList.Add(argument);
        // A NOTIFY_SOCKET inherited from the test runner's environment must not reach the daemon.
        psi.Environment.Remove("NOTIFY_SOCKET");
        psi.Environment.Remove("WATCHDOG_USEC");
        if (environment is not null)
        {
            foreach (var (key, value) in environment) psi.Environment[key] = value;
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        return new DaemonProcess(process);
    }

    /// <summary>Sends a real signal to this daemon (by its PID).</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits for exit and returns the exit code; throws <see cref="TimeoutException"/> with the output on time-out.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"clockbound (pid {Pid}) did not exit within {timeout}. Output:\n{OutputText}");
        }
        _process.WaitForExit(); // flushes the asynchronous output readers
        return _process.ExitCode;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; on time-out fails with <paramref name="what"/> and the daemon's output.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"{what}: not within {timeout}. clockbound output:\n{OutputText}");
            if (_process.HasExited)
                throw new InvalidOperationException($"{what}: clockbound exited with {_process.ExitCode}. Output:\n{OutputText}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SIGKILL);
            try { await WaitForExitAsync(TimeSpan.FromSeconds(10)); }
            catch (TimeoutException) { }
        }
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
