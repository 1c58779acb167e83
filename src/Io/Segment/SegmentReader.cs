namespace ClockBound.Io.Segment;

/// <summary>Maps a segment read-only and takes consistent snapshots. Thread-safe, lock-free.</summary>
public sealed class SegmentReader : IDisposable
{
    public static SegmentReader Open(string path) => throw new NotImplementedException();

    public string Path => throw new NotImplementedException();

    /// <summary>A consistent copy of the record (seqlock; bounded retries, then SegmentMalformed... or the last good).</summary>
    public ClockErrorBound Snapshot() => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
