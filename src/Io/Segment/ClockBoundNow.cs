namespace ClockBound.Io.Segment;

/// <summary>The result of the client-side now(): an interval that contains true time.</summary>
public readonly record struct NowResult(Timespec Earliest, Timespec Latest, long BoundNanoseconds, ClockStatus Status);

/// <summary>The client-side computation of shm-v2.md "Computing now() in a client" (steps 1-5; the VMClock
/// marker comparison, step 6, belongs to the client that owns the device mapping).</summary>
public static class ClockBoundNow
{
    /// <summary>A drift of 1e9 ppb would let the bound grow by a second per second: not a real clock.</summary>
    private const uint MaxDriftPpbExclusive = 1_000_000_000;

    /// <summary>How long after as_of a stored Synchronized/FreeRunning status is trusted as is: covers a daemon
    /// restart, during which the segment is not updated.</summary>
    private const long StatusGraceNanoseconds = 5 * Timespec.NanosPerSecond;

    /// <summary>CLOCK_MONOTONIC_COARSE read by the client may lag the daemon's read by a little; an as_of later than
    /// the client's clock by less than this is jitter (elapsed = 0), by more it is a causality breach.</summary>
    private const long CausalityToleranceNanoseconds = 1_000;

    /// <summary>Steps 1-5 for <paramref name="bound"/> at the given clock readings (read realtime first, then
    /// monotonic coarse). Throws <see cref="ClockBoundException"/> SegmentMalformed (drift >= 1e9 ppb) or CausalityBreach
    /// (monotonic clock more than 1 µs before as_of); <paramref name="path"/> only names the segment in the message.
    /// Does not allocate.</summary>
    public static NowResult Compute(in ClockErrorBound bound, Timespec realtime, Timespec monotonicCoarse, string path)
    {
        if (bound.MaxDriftPpb >= MaxDriftPpbExclusive)
            throw new ClockBoundException(ClockBoundErrorKind.SegmentMalformed, path,
                $"clock error bound segment {path}: max_drift_ppb {bound.MaxDriftPpb} is not below 1e9");

        // 128-bit nanoseconds: raw segment fields are neither range-checked nor normalised.
        Int128 mono = Nanoseconds(monotonicCoarse);
        Int128 asOf = Nanoseconds(bound.AsOf);

        ClockStatus status = bound.Status switch
        {
            ClockStatus.Unknown or ClockStatus.Disrupted => bound.Status,
            ClockStatus.Synchronized or ClockStatus.FreeRunning when mono < asOf + StatusGraceNanoseconds => bound.Status,
            ClockStatus.Synchronized or ClockStatus.FreeRunning when mono < Nanoseconds(bound.VoidAfter) => ClockStatus.FreeRunning,
            _ => ClockStatus.Unknown,
        };

        Int128 elapsed = mono - asOf;
        if (elapsed < 0)
        {
            if (-elapsed >= CausalityToleranceNanoseconds)
                throw new ClockBoundException(ClockBoundErrorKind.CausalityBreach, path,
                    $"clock error bound segment {path}: as_of {bound.AsOf} is later than CLOCK_MONOTONIC_COARSE {monotonicCoarse}");
            elapsed = 0;
        }

        // floor(elapsed_ns × ppb / 1e9), as the reference client's integer arithmetic.
        Int128 total = bound.BoundNanoseconds + elapsed * bound.MaxDriftPpb / Timespec.NanosPerSecond;
        long boundNs = total > long.MaxValue ? long.MaxValue : (long)total;

        return new NowResult(Offset(realtime, -boundNs), Offset(realtime, boundNs), boundNs, status);
    }

    private static Int128 Nanoseconds(Timespec t) => (Int128)t.Seconds * Timespec.NanosPerSecond + t.Nanoseconds;

    /// <summary><paramref name="t"/> + <paramref name="nanoseconds"/>, normalised, without overflowing for large bounds.</summary>
    private static Timespec Offset(Timespec t, long nanoseconds)
    {
        long seconds = t.Seconds + nanoseconds / Timespec.NanosPerSecond;
        long nanos = t.Nanoseconds + nanoseconds % Timespec.NanosPerSecond;
        if (nanos < 0) { nanos += Timespec.NanosPerSecond; seconds--; }
        else if (nanos >= Timespec.NanosPerSecond) { nanos -= Timespec.NanosPerSecond; seconds++; }
        return new Timespec(seconds, nanos);
    }
}
