using System.Numerics;
using System.Runtime.CompilerServices;

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
        (ClockStatus status, long boundNs) = StatusAndBound(bound, monotonicCoarse, path);
        return new NowResult(Offset(realtime, -boundNs), Offset(realtime, boundNs), boundNs, status);
    }

    /// <summary>Steps 1-4 alone: the aged status and the bound at <paramref name="monotonicCoarse"/>, for a caller that
    /// applies the bound to realtime itself (the client works in nanoseconds). Same errors as <see cref="Compute"/>.</summary>
    public static (ClockStatus Status, long BoundNanoseconds) StatusAndBound(in ClockErrorBound bound, Timespec monotonicCoarse, string path)
    {
        if (bound.MaxDriftPpb >= MaxDriftPpbExclusive)
            throw AbsurdDrift(path, bound.MaxDriftPpb);

        // Raw segment fields are neither range-checked nor normalised, so the general case needs 128-bit nanoseconds;
        // timestamps within ±136 years of the clock's epoch (all real ones) cannot overflow 64 bits, which cost less.
        return FitsIn64Bits(monotonicCoarse) && FitsIn64Bits(bound.AsOf) && FitsIn64Bits(bound.VoidAfter)
            ? StatusAndBound<long>(bound, monotonicCoarse, path)
            : StatusAndBound<Int128>(bound, monotonicCoarse, path);
    }

    /// <summary>Steps 2-4 in the integer type <typeparamref name="T"/>, wide enough for the nanoseconds of every timestamp.</summary>
    private static (ClockStatus Status, long BoundNanoseconds) StatusAndBound<T>(in ClockErrorBound bound, Timespec monotonicCoarse, string path)
        where T : IBinaryInteger<T>
    {
        T mono = Nanoseconds<T>(monotonicCoarse);
        T asOf = Nanoseconds<T>(bound.AsOf);

        ClockStatus status = bound.Status switch
        {
            ClockStatus.Unknown or ClockStatus.Disrupted => bound.Status,
            ClockStatus.Synchronized or ClockStatus.FreeRunning when mono < asOf + T.CreateTruncating(StatusGraceNanoseconds) => bound.Status,
            ClockStatus.Synchronized or ClockStatus.FreeRunning when mono < Nanoseconds<T>(bound.VoidAfter) => ClockStatus.FreeRunning,
            _ => ClockStatus.Unknown,
        };

        T elapsed = mono - asOf;
        if (T.IsNegative(elapsed))
        {
            if (-elapsed >= T.CreateTruncating(CausalityToleranceNanoseconds))
                throw CausalityBreach(path, bound.AsOf, monotonicCoarse);
            elapsed = T.Zero;
        }

        // bound_nsec + floor(elapsed_ns × ppb / 1e9), as the reference client's integer arithmetic, saturated.
        if (elapsed <= T.CreateTruncating(long.MaxValue))
        {
            long drift = DriftNanoseconds(long.CreateTruncating(elapsed), bound.MaxDriftPpb);
            return (status, bound.BoundNanoseconds > long.MaxValue - drift ? long.MaxValue : bound.BoundNanoseconds + drift);
        }
        Int128 total = bound.BoundNanoseconds + Int128.CreateTruncating(elapsed) * bound.MaxDriftPpb / Timespec.NanosPerSecond;
        return (status, total > long.MaxValue ? long.MaxValue : (long)total);
    }

    // The exceptions are built out of line: an interpolated message inline would give the hot path a large,
    // zero-initialised stack frame on every call.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ClockBoundException AbsurdDrift(string path, uint ppb) =>
        new(ClockBoundErrorKind.SegmentMalformed, path, $"clock error bound segment {path}: max_drift_ppb {ppb} is not below 1e9");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ClockBoundException CausalityBreach(string path, Timespec asOf, Timespec monotonicCoarse) =>
        new(ClockBoundErrorKind.CausalityBreach, path,
            $"clock error bound segment {path}: as_of {asOf} is later than CLOCK_MONOTONIC_COARSE {monotonicCoarse}");

    /// <summary>Seconds and nanoseconds both within ±2^32: seconds × 1e9 + nanoseconds, and the sums and differences
    /// of such values taken in <see cref="StatusAndBound{T}"/>, stay far below 2^63.</summary>
    private static bool FitsIn64Bits(Timespec t) =>
        (ulong)(t.Seconds + (1L << 32)) < (1UL << 33) && (ulong)(t.Nanoseconds + (1L << 32)) < (1UL << 33);

    /// <summary>floor(<paramref name="elapsed"/> × <paramref name="ppb"/> / 1e9) for elapsed >= 0 and ppb &lt; 1e9 in 64 bits
    /// (a 128-bit division costs more than the rest of <see cref="Compute"/>): with elapsed = s·1e9 + r, it equals
    /// s·ppb + floor(r·ppb / 1e9) exactly; s &lt;= 9.3e9 so s·ppb &lt; 9.23e18, r·ppb &lt; 1e18, and their sum stays below
    /// long.MaxValue.</summary>
    private static long DriftNanoseconds(long elapsed, uint ppb)
    {
        long seconds = Math.DivRem(elapsed, Timespec.NanosPerSecond, out long rest);
        return seconds * ppb + rest * ppb / Timespec.NanosPerSecond;
    }

    private static T Nanoseconds<T>(Timespec t) where T : IBinaryInteger<T> =>
        T.CreateTruncating(t.Seconds) * T.CreateTruncating(Timespec.NanosPerSecond) + T.CreateTruncating(t.Nanoseconds);

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
