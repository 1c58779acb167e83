using System.CommandLine;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Cli;

/// <summary>The tools' error convention: one line on stderr naming the segment, exit code 2.</summary>
internal static class ToolErrors
{
    /// <summary>The line for an error of the segment or of the VMClock. The client reads the VMClock only because the segment
    /// says the daemon runs with clock disruption support: the tool can only be told where the device is.</summary>
    public static string Line(string tool, ParseResult parse, ClockBoundException e) =>
        e.Path == CommonOptions.VmClockPathOf(parse)
            ? $"clockbound {tool}: {e.Kind}: {e.Message} (the segment says the daemon runs with clock disruption support, so the " +
              "VMClock is read too: give its path with --vmclock-path)"
            : $"clockbound {tool}: {e.Kind}: {e.Message}";

    public static int Run(string tool, ParseResult parse, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ClockBoundException e)
        {
            parse.InvocationConfiguration.Error.WriteLine(Line(tool, parse, e));
            return ExitCodes.InvalidInput;
        }
        catch (ArgumentOutOfRangeException e)
        {
            parse.InvocationConfiguration.Error.WriteLine($"clockbound {tool}: {e.Message.Split(" (Parameter", 2)[0]}");
            return ExitCodes.InvalidInput;
        }
    }
}
