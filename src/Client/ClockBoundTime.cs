using ClockBound.Io.Segment;

namespace ClockBound.Client;

/// <summary>
/// The answer of <see cref="ClockBoundClient.Now"/>: true time was within [<see cref="EarliestNanoseconds"/>,
/// <see cref="LatestNanoseconds"/>] (nanoseconds since the Unix epoch, UTC) when it was called, provided
/// <see cref="Status"/> is <see cref="ClockStatus.Synchronized"/> or <see cref="ClockStatus.FreeRunning"/>.
/// </summary>
public readonly record struct ClockBoundTime(long EarliestNanoseconds, long LatestNanoseconds, long BoundNanoseconds, ClockStatus Status)
{
    /// <summary>The earliest possible true time, to 100 ns (the resolution of <see cref="DateTimeOffset"/>, rounded down).</summary>
    public DateTimeOffset Earliest => DateTimeOffset.UnixEpoch.AddTicks(Math.DivRem(EarliestNanoseconds, 100, out long r) - (r < 0 ? 1 : 0));

    /// <summary>The latest possible true time, to 100 ns (rounded up).</summary>
    public DateTimeOffset Latest => DateTimeOffset.UnixEpoch.AddTicks(Math.DivRem(LatestNanoseconds, 100, out long r) + (r > 0 ? 1 : 0));

    /// <summary>True when the interval can be trusted: Synchronized, or FreeRunning (bound growing by the drift rate).</summary>
    public bool IsUsable => Status is ClockStatus.Synchronized or ClockStatus.FreeRunning;
}
