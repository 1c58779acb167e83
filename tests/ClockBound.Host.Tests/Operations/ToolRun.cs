using System.Diagnostics;

namespace ClockBound.Host.Tests.Operations;

/// <summary>The outcome of one finished command.</summary>
internal sealed record ToolResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Throws with the command and its output unless it exited with 0.</summary>
    public ToolResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"{Command} exited with {ExitCode}: {Stderr}{Stdout}");
}

/// <summary>Runs a command to completion with a deadline (its process tree is killed by PID when the deadline passes).</summary>
internal static class ToolRun
{
    public static async Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) psi.ArgumentList.Add(argument);
        string command = $"{program} {string.Join(' ', psi.ArgumentList)}";

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"{command} did not start");
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
        return new ToolResult(command, process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs a script of the repository with bash.</summary>
    public static Task<ToolResult> ScriptAsync(string script, TimeSpan timeout, params string[] arguments) =>
        RunAsync("bash", [Path.Combine(ClockBound.TestSupport.RepoPaths.Root, "scripts", script), .. arguments], timeout);
}
