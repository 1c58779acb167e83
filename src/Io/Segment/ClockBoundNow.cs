namespace ClockBound.Io.Segment;

/// <summary>The result of the client-side now(): an interval that contains true time.</summary>
public readonly record struct NowResult(Timespec Earliest, Timespec Latest, long BoundNanoseconds, ClockStatus Status);

/// <summary>The client-side computation of shm-v2.md "Computing now() in a client" (steps 1-5; the VMClock
/// marker comparison, step 6, belongs to the client that owns the device mapping).</summary>
public static class ClockBoundNow
{
    public static NowResult Compute(in ClockErrorBound bound, Timespec realtime, Timespec monotonicCoarse, string path) =>
        throw new NotImplementedException();
}
