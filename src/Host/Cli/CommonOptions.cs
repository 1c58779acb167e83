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
}
