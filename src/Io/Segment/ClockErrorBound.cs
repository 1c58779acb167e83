namespace ClockBound.Io.Segment;

/// <summary>
/// The 64-byte "clock error bound" record of segment layout v2 (offsets 16..79 of the segment).
/// See shared/spec/shm-v2.md. Timestamps are CLOCK_MONOTONIC_COARSE, not wall-clock time.
/// </summary>
public readonly record struct ClockErrorBound(
    Timespec AsOf,
    Timespec VoidAfter,
    long BoundNanoseconds,
    ulong DisruptionMarker,
    uint MaxDriftPpb,
    ClockStatus Status,
    bool ClockDisruptionSupportEnabled)
{
    /// <summary>Record size in bytes, padding included.</summary>
    public const int Size = 64;

    public static ClockErrorBound ReadFrom(ReadOnlySpan<byte> source) => throw new NotImplementedException();

    public void WriteTo(Span<byte> destination) => throw new NotImplementedException();
}
