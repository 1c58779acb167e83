namespace ClockBound.Io;

/// <summary>
/// A <c>struct timespec</c>: seconds and nanoseconds of one clock (realtime or monotonic).
/// Always normalised so that <see cref="Nanoseconds"/> is in [0, 1e9).
/// </summary>
public readonly record struct Timespec(long Seconds, long Nanoseconds) : IComparable<Timespec>
{
    public const long NanosPerSecond = 1_000_000_000;

    public static Timespec FromNanoseconds(long nanoseconds) =>
        new(Math.DivRem(nanoseconds, NanosPerSecond, out var rem) - (rem < 0 ? 1 : 0), rem < 0 ? rem + NanosPerSecond : rem);

    /// <summary>Total nanoseconds; saturates instead of overflowing for absurd values.</summary>
    public long TotalNanoseconds
    {
        get
        {
            if (Seconds > long.MaxValue / NanosPerSecond - 1) return long.MaxValue;
            if (Seconds < long.MinValue / NanosPerSecond + 1) return long.MinValue;
            return Seconds * NanosPerSecond + Nanoseconds;
        }
    }

    public Timespec AddNanoseconds(long nanoseconds) => FromNanoseconds(TotalNanoseconds + nanoseconds);

    public Timespec AddSeconds(long seconds) => new(Seconds + seconds, Nanoseconds);

    /// <summary>this − other, in nanoseconds.</summary>
    public long NanosecondsSince(Timespec other) => TotalNanoseconds - other.TotalNanoseconds;

    public int CompareTo(Timespec other) =>
        Seconds != other.Seconds ? Seconds.CompareTo(other.Seconds) : Nanoseconds.CompareTo(other.Nanoseconds);

    public static bool operator <(Timespec a, Timespec b) => a.CompareTo(b) < 0;
    public static bool operator >(Timespec a, Timespec b) => a.CompareTo(b) > 0;
    public static bool operator <=(Timespec a, Timespec b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Timespec a, Timespec b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Seconds}.{Nanoseconds:D9}";
}
