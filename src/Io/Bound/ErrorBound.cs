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

    /// <summary>
    /// Computes the sample: bound = ceil((root delay / 2 + root dispersion + |current correction|) × 1e9) ns, plus the
    /// PHC's bound when chrony's reference is the PHC; status from the leap status, Synchronized demoted to FreeRunning
    /// when the reference time is before 1970 or older than <paramref name="staleFactor"/> × the last update interval (so
    /// an interval of 0, as chronyd reports just after its first synchronisation, is stale at once).
    /// <paramref name="realtimeNow"/> is CLOCK_REALTIME when the reply arrived. Throws <see cref="ChronyException"/>
    /// (InvalidReply, with <paramref name="socketPath"/>) for a reference time in the future or a delay, dispersion or
    /// correction that is not a finite number (delay and dispersion also not negative).
    /// </summary>
    public static ChronySample Compute(in TrackingReply tracking, Timespec asOf, Timespec realtimeNow, PhcBound? phc = null,
        double staleFactor = DefaultStaleFactor, string socketPath = "")
    {
        if (!double.IsFinite(staleFactor) || staleFactor < 0)
            throw new ArgumentOutOfRangeException(nameof(staleFactor), staleFactor, "The stale factor must be a finite non-negative number.");
        if (phc is { ErrorBoundNanoseconds: < 0 })
            throw new ArgumentOutOfRangeException(nameof(phc), phc, "The PHC error bound must not be negative.");

        CheckSeconds(tracking.RootDelay, "root delay", socketPath, allowNegative: false);
        CheckSeconds(tracking.RootDispersion, "root dispersion", socketPath, allowNegative: false);
        CheckSeconds(tracking.CurrentCorrection, "current correction", socketPath, allowNegative: true);
        CheckSeconds(tracking.LastUpdateInterval, "last update interval", socketPath, allowNegative: false);
        if (tracking.ReferenceTime > realtimeNow)
            throw new ChronyException(ChronyErrorKind.InvalidReply, socketPath,
                $"{Chronyd(socketPath)} reports reference time {tracking.ReferenceTime}, after the current time {realtimeNow}");

        double boundSeconds = tracking.RootDelay / 2 + tracking.RootDispersion + Math.Abs(tracking.CurrentCorrection);
        double boundNanoseconds = Math.Ceiling(boundSeconds * 1e9);
        // long.MaxValue as a double rounds up to 2^63, which no longer fits: compare with >=.
        if (boundNanoseconds >= long.MaxValue)
            throw new ChronyException(ChronyErrorKind.InvalidReply, socketPath,
                $"{Chronyd(socketPath)} reports an error bound of {boundSeconds} s, too large to represent in nanoseconds");
        long bound = (long)boundNanoseconds;
        if (phc is { } p && p.ReferenceId == tracking.ReferenceId)
            bound = bound > long.MaxValue - p.ErrorBoundNanoseconds ? long.MaxValue : bound + p.ErrorBoundNanoseconds;

        return new ChronySample(asOf, bound, Status(tracking, realtimeNow, staleFactor));
    }

    private static ChronyClockStatus Status(in TrackingReply tracking, Timespec realtimeNow, double staleFactor)
    {
        ChronyClockStatus status = tracking.LeapStatus switch
        {
            LeapStatus.Normal or LeapStatus.InsertSecond or LeapStatus.DeleteSecond => ChronyClockStatus.Synchronized,
            LeapStatus.Unsynchronised => ChronyClockStatus.FreeRunning,
            _ => ChronyClockStatus.Unknown, // 4 or more: chrony defines no such leap status (decoded as is)
        };
        if (status == ChronyClockStatus.Synchronized)
        {
            // A reference time before 1970 (a seconds-high of 0x80000000 or more decodes to negative seconds) is no
            // sample a synchronised chronyd can have: stale, whatever the update interval, as in the reference daemon.
            if (tracking.ReferenceTime.Seconds < 0)
                return ChronyClockStatus.FreeRunning;
            // 0 <= reference <= now (Compute refuses a reference in the future), so the difference of the seconds cannot
            // overflow. Not Timespec.NanosecondsSince: its totals saturate and its difference wraps, which made references
            // of any age, before 1970 or absurdly far after it, look fresh.
            double ageNanoseconds = (double)(realtimeNow.Seconds - tracking.ReferenceTime.Seconds) * Timespec.NanosPerSecond
                + (realtimeNow.Nanoseconds - tracking.ReferenceTime.Nanoseconds);
            if (ageNanoseconds > staleFactor * tracking.LastUpdateInterval * 1e9)
                return ChronyClockStatus.FreeRunning;
        }
        return status;
    }

    private static string Chronyd(string socketPath) => socketPath.Length == 0 ? "chronyd" : $"chronyd at {socketPath}";

    private static void CheckSeconds(double seconds, string field, string socketPath, bool allowNegative)
    {
        if (!double.IsFinite(seconds) || (!allowNegative && seconds < 0))
            throw new ChronyException(ChronyErrorKind.InvalidReply, socketPath,
                $"{Chronyd(socketPath)} reports an invalid {field} of {seconds} s");
    }
}
