using System.Collections.Concurrent;
using System.Diagnostics;
using ClockBound.ReaderProcess;
using ClockBound.TestSupport;

namespace ClockBound.Faults.Tests;

/// <summary>
/// One run of tests/ClockBound.ReaderProcess (<c>dotnet ClockBound.ReaderProcess.dll MODE ...</c>) as a child process:
/// output captured, standard input kept open for "go" and "stop", the summary line parsed at the end. Disposing kills it
/// (by its handle) if it still runs.
/// </summary>
internal sealed class ReaderProcessRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ReaderProcessRun(Process process, string name)
    {
        _process = process;
        Name = name;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The program, copied next to the tests by the project reference.</summary>
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "ClockBound.ReaderProcess.dll");

    public string Name { get; }

    public int Pid => _process.Id;

    public string OutputText => string.Join('\n', _lines);

    /// <summary>Starts <c>dotnet ClockBound.ReaderProcess.dll arguments</c>, through <paramref name="launcher"/> if given
    /// (a program and arguments that exec the rest, e.g. setpriv). A launcher may switch to another user, so through one
    /// the program runs from <see cref="BuildCopyForOtherUsers"/>, which every user can reach.</summary>
    public static ReaderProcessRun Start(string name, IReadOnlyList<string> arguments, IReadOnlyList<string>? launcher = null)
    {
        string dll = launcher is null ? DllPath : BuildCopyForOtherUsers.PathOf(Path.GetFileName(DllPath));
        string[] command = [.. launcher ?? [], DotnetHost(), dll, .. arguments];
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in command.Skip(1)) psi.ArgumentList.Add(argument);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {string.Join(' ', command)}");
        return new ReaderProcessRun(process, name);
    }

    /// <summary>Waits for the program's "ready" line (its first read, or the writer's first record).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var finished = await Task.WhenAny(_ready.Task, _process.WaitForExitAsync(), Task.Delay(timeout));
        if (finished == _ready.Task) return;
        throw new TimeoutException(_process.HasExited
            ? $"{Name} exited with {_process.ExitCode} before it was ready:\n{OutputText}"
            : $"{Name} not ready within {timeout}:\n{OutputText}");
    }

    /// <summary>Writes one line to the program's standard input. A program that already finished (a reader that reached
    /// its read limit) no longer listens: nothing to tell it.</summary>
    public void Send(string line)
    {
        try
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
        }
        catch (IOException) when (_process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
        }
    }

    /// <summary>Waits for the exit and returns the exit code and the parsed summary line; throws with the output if the
    /// program does not finish in time or prints no summary.</summary>
    public async Task<(int ExitCode, ReaderSummary Summary)> WaitForSummaryAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} (pid {Pid}) did not finish within {timeout}:\n{OutputText}");
        }
        _process.WaitForExit(); // flushes the asynchronous output readers
        var summary = _lines.Select(ReaderSummary.TryParse).LastOrDefault(s => s is not null)
            ?? throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} without a summary:\n{OutputText}");
        return (_process.ExitCode, summary);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // our own child, by its handle
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        _lines.Enqueue(line);
        if (line == "ready") _ready.TrySetResult();
    }

    /// <summary>The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
