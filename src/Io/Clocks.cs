namespace ClockBound.Io;

/// <summary>The two clocks ClockBound uses, read through <c>clock_gettime</c> without allocating.</summary>
public static class Clocks
{
    /// <summary><c>CLOCK_REALTIME</c>: the wall clock that the bound is about.</summary>
    public static unsafe Timespec Realtime()
    {
        Timespec ts;
        // clock_gettime only fails for an invalid clock id or pointer; neither can happen here.
        _ = Interop.Libc.ClockGetTime(Interop.Libc.CLOCK_REALTIME, &ts);
        return ts;
    }

    /// <summary><c>CLOCK_MONOTONIC_COARSE</c>: the timebase of <c>as_of</c> and <c>void_after</c>
    /// in the segment (what every ClockBound client compares against).</summary>
    public static unsafe Timespec MonotonicCoarse()
    {
        Timespec ts;
        _ = Interop.Libc.ClockGetTime(Interop.Libc.CLOCK_MONOTONIC_COARSE, &ts);
        return ts;
    }
}
