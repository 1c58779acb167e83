global using ToolResult = ClockBound.TestSupport.CommandResult;

namespace ClockBound.Host.Tests.Operations;

/// <summary>Commands of the operations specs (see <see cref="ClockBound.TestSupport.CommandRun"/>).</summary>
internal static class ToolRun
{
    public static Task<ToolResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout) =>
        ClockBound.TestSupport.CommandRun.RunAsync(program, arguments, timeout);

    /// <summary>Runs a script of the repository with bash.</summary>
    public static Task<ToolResult> ScriptAsync(string script, TimeSpan timeout, params string[] arguments) =>
        RunAsync("bash", [Path.Combine(ClockBound.TestSupport.RepoPaths.Root, "scripts", script), .. arguments], timeout);
}
