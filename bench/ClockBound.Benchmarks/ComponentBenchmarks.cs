using BenchmarkDotNet.Attributes;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.Io.VmClock;
using ClockBound.TestSupport;

namespace ClockBound.Benchmarks;

/// <summary>Where the time of <see cref="ClockBound.Client.ClockBoundClient.Now"/> goes: each step of its hot path alone.</summary>
[MemoryDiagnoser]
public class ComponentBenchmarks
{
    private string _directory = "";
    private SegmentWriter? _writer;
    private SegmentReader? _reader;
    private SealedVmClockFile? _memfd;
    private VmClockReader? _vmClock;
    private ClockErrorBound _bound;
    private Timespec _monotonic;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("cb-bench").FullName;
        string shmPath = Path.Combine(_directory, "shm0");
        _monotonic = Clocks.MonotonicCoarse();
        _bound = new ClockErrorBound(_monotonic, _monotonic.AddSeconds(3600), 20_000, 7, 15_000, ClockStatus.Synchronized, true);
        _writer = SegmentWriter.Open(shmPath);
        _writer.Write(_bound);
        _reader = SegmentReader.Open(shmPath);
        _monotonic = _monotonic.AddNanoseconds(123_456_789);
        _memfd = VmClockFiles.CreateSealedMemfd(marker: 7);
        _vmClock = VmClockReader.Open(_memfd.Path);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _vmClock?.Dispose();
        _memfd?.Dispose();
        _reader?.Dispose();
        _writer?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "two clock reads (CLOCK_REALTIME + CLOCK_MONOTONIC_COARSE)")]
    public long TwoClockReads() => Clocks.Realtime().Nanoseconds + Clocks.MonotonicCoarse().Nanoseconds;

    [Benchmark(Description = "SegmentReader.Snapshot() (cached)")]
    public ClockErrorBound Snapshot() => _reader!.Snapshot();

    [Benchmark(Description = "ClockBoundNow.StatusAndBound()")]
    public long StatusAndBound() => ClockBoundNow.StatusAndBound(_bound, _monotonic, "shm0").BoundNanoseconds;

    [Benchmark(Description = "VmClockReader.ReadDisruptionMarker() (sealed memfd)")]
    public ulong VmClockMarker() => _vmClock!.ReadDisruptionMarker();
}
