using System.CommandLine;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Cli;

/// <summary>The tools' error convention: one line on stderr naming the segment, exit code 2.</summary>
internal static class ToolErrors
{
    public static int Run(string tool, ParseResult parse, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ClockBoundException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"clockbound {tool}: {e.Kind}: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (ArgumentOutOfRangeException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"clockbound {tool}: {e.Message.Split(" (Parameter", 2)[0]}");
            return ExitCodes.InvalidInput;
        }
    }
}
