using System.Diagnostics;

namespace ClockBound.Io.Tests.Segment;

/// <summary>
/// util-linux <c>flock(1)</c> as a child process holding an flock on a file: another process than the tests'
/// own, with a PID of its own. It says "locked" once it holds the lock and releases it when its standard input is closed
/// (<see cref="ReleaseAsync"/>). Disposing kills it and its child by PID if it still runs.
/// </summary>
internal sealed class FlockProcess : IDisposable
{
    private const string Flock = "/usr/bin/flock";

    /// <summary>Bounds each wait on the child; it answers in milliseconds.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly Process _process;

    private FlockProcess(Process process) => _process = process;

    /// <summary>The PID of the process that holds the lock (flock itself: its command, run with <c>-o</c>, does not
    /// inherit the locked descriptor).</summary>
    public int Pid => _process.Id;

    /// <summary>Starts <c>flock -x -o FILE sh -c 'echo locked; exec cat'</c> (<c>-s</c>: a shared lock, unless
    /// <paramref name="exclusive"/>) and returns once it holds the lock.</summary>
    public static async Task<FlockProcess> LockAsync(string path, bool exclusive = true)
    {
        var psi = new ProcessStartInfo(Flock)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { exclusive ? "-x" : "-s", "-o", path, "sh", "-c", "echo locked; exec cat >/dev/null" })
            psi.ArgumentList.Add(argument);
        var holder = new FlockProcess(Process.Start(psi) ?? throw new InvalidOperationException($"could not start {Flock}"));
        try
        {
            using var timeout = new CancellationTokenSource(Patience);
            string? line = await holder._process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line != "locked")
                Assert.Fail($"{Flock} {path}: expected \"locked\", got {line ?? "end of output"}: "
                    + await holder._process.StandardError.ReadToEndAsync(timeout.Token));
            return holder;
        }
        catch
        {
            holder.Dispose();
            throw;
        }
    }

    /// <summary>Closes the child's standard input: its command ends, flock exits and the lock is released.</summary>
    public async Task ReleaseAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Patience);
        await _process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, _process.ExitCode);
    }

    /// <summary>Whether another process could take an exclusive flock on <paramref name="path"/> now
    /// (<c>flock -n -x FILE true</c>: exit code 0 when it could, 1 when the file is locked).</summary>
    public static bool CanBeLocked(string path)
    {
        using var probe = Process.Start(new ProcessStartInfo(Flock, ["-n", "-x", path, "true"]) { UseShellExecute = false })
            ?? throw new InvalidOperationException($"could not start {Flock}");
        Assert.True(probe.WaitForExit(Patience), $"{Flock} -n {path} did not exit within {Patience}");
        Assert.True(probe.ExitCode is 0 or 1, $"{Flock} -n {path}: exit code {probe.ExitCode}");
        return probe.ExitCode == 0;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(Patience);
        }
        _process.Dispose();
    }
}
