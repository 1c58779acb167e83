using ClockBound.Io;
using ClockBound.Io.Chrony;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>chronyd tracking replies for the scenarios.</summary>
public static class Tracking
{
    /// <summary>CLOCK_REALTIME when every reply "arrives".</summary>
    public static readonly Timespec Realtime = new(1_800_000_000, 0);

    /// <summary>An NTP server's reference id (192.168.0.1).</summary>
    public const uint NtpRefId = 0xC0A80001;

    /// <summary>"PHC0" packed big-endian.</summary>
    public const uint PhcRefId = 0x50484330;

    /// <summary>delay/2 + dispersion + |correction| = 2^-10 + 2^-11 + 2^-13 s = 1 586 914.0625 ns (exact in binary),
    /// rounded up to whole nanoseconds.</summary>
    public const long BoundNanoseconds = 1_586_915;

    /// <summary>A reply whose reference time is 1 s old with a 2 s update interval (fresh: stale after 8 × 2 s).</summary>
    public static TrackingReply Reply(LeapStatus leap = LeapStatus.Normal, uint referenceId = NtpRefId,
        Timespec? referenceTime = null) =>
        new(ReferenceId: referenceId,
            ReferenceAddress: null,
            Stratum: 3,
            LeapStatus: leap,
            ReferenceTime: referenceTime ?? Realtime.AddSeconds(-1),
            CurrentCorrection: -1.0 / 8192,
            LastOffset: 0,
            RmsOffset: 0,
            Frequency: 0,
            ResidualFrequency: 0,
            Skew: 0,
            RootDelay: 1.0 / 512,
            RootDispersion: 1.0 / 2048,
            LastUpdateInterval: 2.0);
}
