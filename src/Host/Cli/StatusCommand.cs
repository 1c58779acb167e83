using System.CommandLine;

namespace ClockBound.Host.Cli;

/// <summary><c>clockbound status [--json]</c>: everything in the segment plus the bound computed for now.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("status", "Print everything in the segment, and the bound computed for now") { json };
        command.SetAction(parse => ToolErrors.Run("status", parse, () => throw new NotImplementedException("status: after the segment reader lands")));
        return command;
    }
}
