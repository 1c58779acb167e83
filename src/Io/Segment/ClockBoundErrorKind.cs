namespace ClockBound.Io.Segment;

/// <summary>The error kinds of the reference ClockBound clients.</summary>
public enum ClockBoundErrorKind
{
    SegmentNotInitialized,
    SegmentVersionNotSupported,
    SegmentMalformed,
    CausalityBreach,
    Syscall,
}

/// <summary>A segment (or VMClock, for the client) error. <see cref="Exception.Message"/> names the path.</summary>
public sealed class ClockBoundException(ClockBoundErrorKind kind, string path, string message, int errno = 0)
    : Exception(message)
{
    public ClockBoundErrorKind Kind { get; } = kind;
    public string Path { get; } = path;
    /// <summary>errno for <see cref="ClockBoundErrorKind.Syscall"/>, else 0.</summary>
    public int Errno { get; } = errno;
}
