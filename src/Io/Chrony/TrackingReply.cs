using System.Net;

namespace ClockBound.Io.Chrony;

/// <summary>The decoded body of chronyd's tracking reply (shared/spec/chrony-candm.md). Floats are in seconds or ppm.</summary>
public readonly record struct TrackingReply(
    uint ReferenceId,
    IPAddress? ReferenceAddress,
    ushort Stratum,
    LeapStatus LeapStatus,
    Timespec ReferenceTime,
    double CurrentCorrection,
    double LastOffset,
    double RmsOffset,
    double Frequency,
    double ResidualFrequency,
    double Skew,
    double RootDelay,
    double RootDispersion,
    double LastUpdateInterval);
