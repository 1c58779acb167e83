using System.Diagnostics;

namespace ClockBound.TestSupport;

/// <summary>The outcome of one command run to completion.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Throws with the command and its output unless it exited with 0.</summary>
    public CommandResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{Command} exited with {ExitCode}: {Stderr}{Stdout}");
}

/// <summary>Runs a command to completion with a deadline; its process tree is killed by PID when the deadline passes.</summary>
public static class CommandRun
{
    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout,
        string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // never the test host's stdin
            UseShellExecute = false,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (string argument in arguments) psi.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        string command = $"{program} {string.Join(' ', psi.ArgumentList)}";

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{command} did not start");
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within {timeout}");
        }
        return new CommandResult(command, process.ExitCode, await stdout, await stderr);
    }
}
