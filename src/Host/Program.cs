namespace ClockBound.Host;

internal static class Program
{
    private static Task<int> Main(string[] args) => Cli.ClockBoundCli.RunAsync(args);
}
