namespace ClockBound.Io.Segment;

/// <summary>
/// The only writer of a segment file: creates or reuses it (warm restart), maps it MAP_SHARED and
/// publishes records under the generation seqlock. Not thread-safe: one owner.
/// </summary>
public sealed class SegmentWriter : IDisposable
{
    /// <summary>Opens (or creates) the segment at <paramref name="path"/>. Throws <see cref="SegmentException"/>
    /// (Kind Syscall, message naming the path) when the file or its directory cannot be created or mapped.</summary>
    public static SegmentWriter Open(string path) => throw new NotImplementedException();

    public string Path => throw new NotImplementedException();

    /// <summary>Generation after the last write (even).</summary>
    public ushort Generation => throw new NotImplementedException();

    public void Write(in ClockErrorBound bound) => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
