namespace ClockBound.Host.Configuration;

/// <summary>What the command line said; null = not given (the config file or the defaults decide).</summary>
public sealed record CommandLineOverrides
{
    public string? ConfigFile { get; init; }
    public long? MaxDriftRatePpm { get; init; }
    public bool JsonOutput { get; init; }
    public bool DisableClockDisruptionSupport { get; init; }
    public string? PhcRefId { get; init; }
    public string? PhcInterface { get; init; }
    public string? ClockErrorBoundSource { get; init; }
    public string? ShmPath { get; init; }
    public string? ChronySocket { get; init; }
    public string? VmClockPath { get; init; }
    public string? SysfsRoot { get; init; }
    public bool Verbose { get; init; }
    public string? MetricsListen { get; init; }
}
