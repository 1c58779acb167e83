using ClockBound.Io;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>A monotonic clock that only moves when the test says so (read by the actor on its own thread).</summary>
public sealed class ManualMonotonicClock(Timespec start)
{
    private long _nanoseconds = start.TotalNanoseconds;

    public Timespec Now() => Timespec.FromNanoseconds(Interlocked.Read(ref _nanoseconds));

    public void Advance(TimeSpan span) => Interlocked.Add(ref _nanoseconds, span.Ticks * 100);
}
