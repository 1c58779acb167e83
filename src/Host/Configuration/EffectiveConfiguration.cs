using Akka.Configuration;
using ClockBound.Actors;

namespace ClockBound.Host.Configuration;

/// <summary>The result of loading: the actors' settings, the host's own switches and the HOCON handed to Akka.</summary>
public sealed record EffectiveConfiguration(
    ClockBoundSettings Settings,
    bool JsonOutput,
    bool Verbose,
    bool MaxDriftRateIsDefault,
    string? LogFile,
    System.Net.IPEndPoint? MetricsListen,
    Config Hocon);
