namespace ClockBound.Io.VmClock;

/// <summary>Maps /dev/vmclock0 (or a file with the same layout) read-only and takes seqlock snapshots.</summary>
public sealed class VmClockReader : IDisposable
{
    /// <summary>Opens and validates (magic, version &gt; 0, size &gt;= 104). Throws <see cref="VmClockException"/> naming the path.</summary>
    public static VmClockReader Open(string path) => throw new NotImplementedException();

    public string Path => throw new NotImplementedException();

    /// <summary>A consistent snapshot; throws <see cref="VmClockException"/> (Torn) after bounded retries of an odd or changing seq_count.</summary>
    public VmClockSnapshot Read() => throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}

public enum VmClockErrorKind { Missing, PermissionDenied, Invalid, Torn, Syscall }

public sealed class VmClockException(VmClockErrorKind kind, string path, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public VmClockErrorKind Kind { get; } = kind;
    public string Path { get; } = path;
}
