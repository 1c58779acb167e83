using BenchmarkDotNet.Attributes;
using ClockBound.Client;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Benchmarks;

/// <summary>Where the client finds the VMClock structure, if the segment says disruption support is enabled.</summary>
public enum Disruption
{
    /// <summary>Disruption support disabled in the segment: the client reads the segment only.</summary>
    Off,
    /// <summary>Enabled, VMClock in a regular file (FakeVmClock-style): every read pays a statx guarding against truncation.</summary>
    OnRegularFile,
    /// <summary>Enabled, VMClock in a memfd sealed against shrinking: the device's code path, no system call.</summary>
    OnSealedMemfd,
}

/// <summary>
/// The cost of <see cref="ClockBoundClient.Now"/> against a real segment written by the project's writer, with
/// disruption support off and on.
/// </summary>
[MemoryDiagnoser]
public class NowBenchmarks
{
    private const ulong Marker = 7;
    private string _directory = "";
    private SegmentWriter? _writer;
    private IDisposable? _vmClock;
    private ClockBoundClient? _client;

    [Params(Disruption.Off, Disruption.OnRegularFile, Disruption.OnSealedMemfd)]
    public Disruption Disruption { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("cb-bench").FullName;
        string shmPath = Path.Combine(_directory, "shm0");
        string vmClockPath = Path.Combine(_directory, "vmclock0");
        if (Disruption == Disruption.OnSealedMemfd)
        {
            var memfd = VmClockFiles.CreateSealedMemfd(Marker);
            (_vmClock, vmClockPath) = (memfd, memfd.Path);
        }
        else
        {
            _vmClock = VmClockFiles.CreateRegularFile(vmClockPath, Marker);
        }

        _writer = SegmentWriter.Open(shmPath);
        Timespec mono = Clocks.MonotonicCoarse();
        // Written "now", valid for an hour: the status stays Synchronized during the whole run.
        _writer.Write(new ClockErrorBound(
            AsOf: mono, VoidAfter: mono.AddSeconds(3600), BoundNanoseconds: 20_000, DisruptionMarker: Marker,
            MaxDriftPpb: 15_000, Status: ClockStatus.Synchronized, ClockDisruptionSupportEnabled: Disruption != Disruption.Off));
        _client = ClockBoundClient.Open(shmPath, vmClockPath);
        if (_client.Now().Status != ClockStatus.Synchronized)
            throw new InvalidOperationException("benchmark segment is not Synchronized: the VMClock marker check failed");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Dispose();
        _writer?.Dispose();
        _vmClock?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Description = "ClockBoundClient.Now()")]
    public ClockBoundTime Now() => _client!.Now();
}
