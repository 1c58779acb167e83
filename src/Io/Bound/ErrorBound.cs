using ClockBound.Io.Chrony;

namespace ClockBound.Io.Bound;

/// <summary>One poll's result: the bound at <see cref="AsOf"/> (CLOCK_MONOTONIC_COARSE read before the request).</summary>
public readonly record struct ChronySample(Timespec AsOf, long BoundNanoseconds, ChronyClockStatus Status);

/// <summary>PHC settings: the chrony reference id it appears under and the current error bound of the device.</summary>
public readonly record struct PhcBound(uint ReferenceId, long ErrorBoundNanoseconds);

/// <summary>daemon-behaviour.md "The clock error bound", steps 2-4.</summary>
public static class ErrorBoundCalculator
{
    /// <summary>chrony's 8-sample register: a reference older than 8 update intervals means no fresh samples.</summary>
    public const double DefaultStaleFactor = 8.0;

    /// <summary>Computes the sample. <paramref name="realtimeNow"/> is CLOCK_REALTIME when the reply arrived (for staleness).
    /// Throws <see cref="ChronyException"/> (InvalidReply) for a reference time in the future.</summary>
    public static ChronySample Compute(in TrackingReply tracking, Timespec asOf, Timespec realtimeNow, PhcBound? phc = null,
        double staleFactor = DefaultStaleFactor) => throw new NotImplementedException();
}
