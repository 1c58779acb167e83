using System.CommandLine;
using ClockBound.Host.Configuration;

namespace ClockBound.Host.Cli;

/// <summary>The root command: the daemon, with the reference daemon's options (same names and short forms) and ours.</summary>
internal static class DaemonCommand
{
    private static readonly Option<long?> MaxDriftRate = new("--max-drift-rate", "-m")
    {
        Description = "Maximum drift rate of the clock, in ppm (integer). Default 1; use 50 with chrony's maxclockerror 50",
        HelpName = "PPM",
        CustomParser = result =>
        {
            string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (long.TryParse(token, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long ppm))
                return ppm;
            result.AddError($"--max-drift-rate: '{token}' is not an integer number of ppm");
            return null;
        },
    };
    private static readonly Option<bool> JsonOutput = new("--json-output", "-j") { Description = "Log JSON lines instead of human-readable ones" };
    private static readonly Option<bool> DisableDisruption = new("--disable-clock-disruption-support", "-d")
    {
        Description = "Do not watch the VMClock device; SIGUSR1/SIGUSR2 are ignored",
    };
    private static readonly Option<string?> PhcRefId = new("--phc-ref-id", "-r")
    {
        Description = "chrony reference id of the PTP hardware clock (up to 4 ASCII characters, e.g. PHC0); requires --phc-interface",
        HelpName = "REFID",
    };
    private static readonly Option<string?> PhcInterface = new("--phc-interface", "-i")
    {
        Description = "Network interface of the PTP hardware clock (e.g. ens5); requires --phc-ref-id",
        HelpName = "IFACE",
    };
    private static readonly Option<string?> Source = new("--clock-error-bound-source")
    {
        Description = "Source of the clock error bound: chrony (default) or vmclock (not supported yet)",
        HelpName = "chrony|vmclock",
    };
    private static readonly Option<string?> ConfigFile = new("--config", "-c") { Description = "HOCON configuration file", HelpName = "FILE" };
    private static readonly Option<string?> ChronySocket = new("--chrony-socket") { Description = "chronyd's command socket (default /var/run/chrony/chronyd.sock)", HelpName = "PATH" };
    private static readonly Option<string?> SysfsRoot = new("--sysfs-root") { Description = "Root of the sysfs tree used for the PHC (default /)", HelpName = "DIR" };
    private static readonly Option<bool> CheckConfig = new("--check-config")
    {
        Description = "Load and validate the configuration, print it and exit (0 valid, 2 invalid); touches nothing",
    };
    private static readonly Option<string?> MetricsListen = new("--metrics-listen")
    {
        Description = "Serve Prometheus metrics on http://ADDRESS:PORT/metrics (e.g. 127.0.0.1:9464); default: no port opened",
        HelpName = "ADDRESS:PORT",
    };
    private static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Debug-level logs" };

    public static RootCommand Create()
    {
        var root = new RootCommand("clockbound: publishes a bound on the error of the system clock in shared memory (ClockBound segment v2)");
        foreach (Option option in new Option[]
                 {
                     MaxDriftRate, JsonOutput, DisableDisruption, PhcRefId, PhcInterface, Source, ConfigFile, CommonOptions.ShmPath,
                     ChronySocket, CommonOptions.VmClockPath, SysfsRoot, CheckConfig, Verbose, MetricsListen,
                 })
        {
            root.Options.Add(option);
        }
        root.SetAction((parse, cancellationToken) =>
        {
            var overrides = new CommandLineOverrides
            {
                ConfigFile = parse.GetValue(ConfigFile),
                MaxDriftRatePpm = parse.GetValue(MaxDriftRate),
                JsonOutput = parse.GetValue(JsonOutput),
                DisableClockDisruptionSupport = parse.GetValue(DisableDisruption),
                PhcRefId = parse.GetValue(PhcRefId),
                PhcInterface = parse.GetValue(PhcInterface),
                ClockErrorBoundSource = parse.GetValue(Source),
                ShmPath = parse.GetValue(CommonOptions.ShmPath),
                ChronySocket = parse.GetValue(ChronySocket),
                VmClockPath = parse.GetValue(CommonOptions.VmClockPath),
                SysfsRoot = parse.GetValue(SysfsRoot),
                Verbose = parse.GetValue(Verbose),
                MetricsListen = parse.GetValue(MetricsListen),
            };
            return Daemon.DaemonRunner.RunAsync(overrides, parse.GetValue(CheckConfig), parse.InvocationConfiguration.Output, cancellationToken);
        });
        root.Subcommands.Add(NowCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(WaitsyncCommand.Create());
        return root;
    }
}
