using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Client.Tests;

/// <summary>A segment in a temporary directory, written by the project's writer, and a VMClock path next to it.</summary>
internal sealed class Segments : IDisposable
{
    private readonly TempDirectory _dir = new("cb-client");
    private SegmentWriter? _writer;

    public string ShmPath => _dir.Combine("shm0");
    public string VmClockPath => _dir.Combine("vmclock0");
    public TempDirectory Directory => _dir;

    /// <summary>Opens the writer on first use and publishes <paramref name="bound"/>.</summary>
    public void Write(in ClockErrorBound bound)
    {
        _writer ??= SegmentWriter.Open(ShmPath);
        _writer.Write(bound);
    }

    /// <summary>A record computed "now" on this host's CLOCK_MONOTONIC_COARSE, valid for an hour.</summary>
    public static ClockErrorBound Fresh(ClockStatus status, long boundNs = 20_000, uint ppb = 15_000, ulong marker = 0,
        bool disruptionSupport = false)
    {
        Timespec mono = Clocks.MonotonicCoarse();
        return new ClockErrorBound(mono, mono.AddSeconds(3600), boundNs, marker, ppb, status, disruptionSupport);
    }

    public ClockBoundClient Open() => ClockBoundClient.Open(ShmPath, VmClockPath);

    public void Dispose()
    {
        _writer?.Dispose();
        _dir.Dispose();
    }
}
