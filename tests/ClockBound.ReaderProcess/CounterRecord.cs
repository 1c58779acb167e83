using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.ReaderProcess;

/// <summary>
/// The records of the load writer: every field is derived from one counter n, so any snapshot tells by itself whether it
/// is one complete record (n is as_of.tv_sec; every other field is checked against it) or a mix of two.
/// </summary>
public static class CounterRecord
{
    /// <summary>void_after is as_of + this many seconds (the daemon's default void-after).</summary>
    public const long VoidAfterSeconds = 1000;

    /// <summary>The record for counter <paramref name="n"/> (n ≥ 1; n = 0 would be the all-zero record of a fresh segment).</summary>
    public static ClockErrorBound For(long n) => new(
        AsOf: new Timespec(n, n % Timespec.NanosPerSecond),
        VoidAfter: new Timespec(n + VoidAfterSeconds, n % Timespec.NanosPerSecond),
        BoundNanoseconds: 3 * n,
        DisruptionMarker: (ulong)(7 * n),
        MaxDriftPpb: (uint)(n % 1000),
        Status: (ClockStatus)(n % 4),
        ClockDisruptionSupportEnabled: n % 2 == 1);

    /// <summary>The counter of <paramref name="snapshot"/> if it is exactly one writer record; null for anything else.</summary>
    public static long? CounterOf(in ClockErrorBound snapshot)
    {
        long n = snapshot.AsOf.Seconds;
        return n >= 1 && For(n) == snapshot ? n : null;
    }
}
