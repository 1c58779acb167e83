using System.CommandLine;
using ClockBound.Host.Configuration;

namespace ClockBound.Host.Cli;

/// <summary>Parses the command line and runs the chosen action. Usage errors: one line on stderr, exit code 2.</summary>
public static class ClockBoundCli
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        RootCommand root = DaemonCommand.Create();
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            await stderr.WriteLineAsync($"clockbound: {parse.Errors[0].Message} (see clockbound --help)");
            return ExitCodes.InvalidInput;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (ConfigurationException e)
        {
            await stderr.WriteLineAsync($"clockbound: {e.Message}");
            return ExitCodes.InvalidInput;
        }
    }
}
