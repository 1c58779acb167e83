using System.CommandLine;

namespace ClockBound.Host.Cli;

/// <summary>Options shared by the daemon and the tools.</summary>
internal static class CommonOptions
{
    public const string DefaultShmPath = "/var/run/clockbound/shm0";

    public static readonly Option<string?> ShmPath = new("--shm-path")
    {
        Description = $"Shared-memory segment (default {DefaultShmPath})",
        HelpName = "PATH",
        Recursive = true,
    };

    public const string DefaultVmClockPath = "/dev/vmclock0";

    public static readonly Option<string?> VmClockPath = new("--vmclock-path")
    {
        Description = $"VMClock device (default {DefaultVmClockPath})",
        HelpName = "PATH",
        Recursive = true,
    };

    public static Option<bool> Json() => new("--json") { Description = "One JSON object instead of text" };

    public static string ShmPathOf(System.CommandLine.ParseResult parse) => parse.GetValue(ShmPath) ?? DefaultShmPath;

    public static string VmClockPathOf(System.CommandLine.ParseResult parse) => parse.GetValue(VmClockPath) ?? DefaultVmClockPath;
}
