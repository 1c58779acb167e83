using System.Diagnostics;

namespace ClockBound.Io;

/// <summary>
/// Durations and deadlines in <see cref="Stopwatch"/> ticks, for code that waits (the event loop's timers,
/// <see cref="WakeEvent"/>): rounded up, so that nothing that waits "at least" a duration ends early, and saturating at
/// <see cref="long.MaxValue"/> ("never"), so that a huge duration such as <see cref="TimeSpan.MaxValue"/> cannot wrap
/// around into the past.
/// </summary>
public static class StopwatchTicks
{
    /// <summary><paramref name="span"/> in Stopwatch ticks, rounded up; zero or less is 0, too much is long.MaxValue.</summary>
    public static long From(TimeSpan span)
    {
        if (span <= TimeSpan.Zero) return 0;
        double ticks = Math.Ceiling(span.Ticks * (double)Stopwatch.Frequency / TimeSpan.TicksPerSecond);
        return ticks >= long.MaxValue ? long.MaxValue : (long)ticks;
    }

    /// <summary>The timestamp <paramref name="ticks"/> (zero or more) after <paramref name="timestamp"/>, at most
    /// <see cref="long.MaxValue"/>.</summary>
    public static long After(long timestamp, long ticks) => ticks > long.MaxValue - timestamp ? long.MaxValue : timestamp + ticks;

    /// <summary>The Stopwatch timestamp <paramref name="span"/> from now (long.MaxValue for
    /// <see cref="Timeout.InfiniteTimeSpan"/> or anything beyond the end of time).</summary>
    public static long Deadline(TimeSpan span) =>
        span == Timeout.InfiniteTimeSpan ? long.MaxValue : After(Stopwatch.GetTimestamp(), From(span));
}
