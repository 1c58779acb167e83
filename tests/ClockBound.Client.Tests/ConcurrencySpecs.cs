using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Client.Tests;

/// <summary>
/// One client shared by several reader threads while a writer thread publishes continuously: every answer must come
/// from one complete record. Record k (k &lt; 1e6) is built so that its answer identifies k exactly and any mix of two
/// records is detectable: as_of = M − 1000·k ns and bound_nsec = 1e6·k at 1e6 ppb, so at the fixed reading M the bound is
/// 1e6·k + k = 1_000_001·k; a torn mix of as_of(i) and bound_nsec(j) gives 1e6·j + i, a multiple of 1_000_001 only if
/// i = j. The stored status alternates with k's parity, and void_after carries k too.
/// </summary>
public sealed class ConcurrencySpecs : IDisposable
{
    private const int Readers = 4;
    private const int ReadsPerThread = 1_000_000;
    private const long Records = 1_000_000;
    private const long Multiplier = 1_000_001;

    /// <summary>Each reader goes on past its 10^6 reads until it has seen this many changes of record (the writer may be
    /// descheduled for a while on a busy 2-core machine), within <see cref="Deadline"/>.</summary>
    private const int MinChangesSeen = 100;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly Timespec Mono = new(50_000, 0);
    private static readonly Timespec Realtime = new(1_700_000_000, 0);
    private const long RealtimeNs = 1_700_000_000_000_000_000;

    private readonly Segments _segments = new();

    public void Dispose() => _segments.Dispose();

    private static ClockErrorBound RecordFor(long k) => new(
        AsOf: Mono.AddNanoseconds(-1_000 * k),
        // Within the 5 s grace the stored status is returned as is; void_after only matters after it: 6 s + k ns.
        VoidAfter: Mono.AddNanoseconds(6_000_000_000 + k),
        BoundNanoseconds: 1_000_000 * k,
        DisruptionMarker: (ulong)k,
        MaxDriftPpb: 1_000_000,
        Status: k % 2 == 0 ? ClockStatus.Synchronized : ClockStatus.FreeRunning,
        ClockDisruptionSupportEnabled: false);

    [Fact]
    public void Concurrent_readers_must_never_see_a_torn_or_inconsistent_record()
    {
        _segments.Write(RecordFor(0));
        using var client = _segments.Open();
        using var stop = new CancellationTokenSource();
        long updates = 0;
        var writer = new Thread(() =>
        {
            for (long k = 1; !stop.IsCancellationRequested; k++)
            {
                _segments.Write(RecordFor(k % Records));
                Interlocked.Increment(ref updates);
            }
        });
        var failures = new string?[Readers];
        var distinct = new int[Readers];
        var readers = Enumerable.Range(0, Readers).Select(r => new Thread(() =>
        {
            long previous = -1;
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            for (int i = 0; failures[r] is null && (i < ReadsPerThread || (distinct[r] < MinChangesSeen && deadline.Elapsed < Deadline)); i++)
            {
                ClockBoundTime now;
                try
                {
                    now = client.NowAt(Realtime, Mono);
                }
                catch (ClockBoundException e)
                {
                    failures[r] = $"read {i}: {e.Message}"; // recorded: an exception on this thread would kill the test host
                    break;
                }
                long k = Math.DivRem(now.BoundNanoseconds, Multiplier, out long rest);
                ClockStatus expected = k % 2 == 0 ? ClockStatus.Synchronized : ClockStatus.FreeRunning;
                if (rest != 0 || k < 0 || k >= Records || now.Status != expected
                    || now.EarliestNanoseconds != RealtimeNs - now.BoundNanoseconds || now.LatestNanoseconds != RealtimeNs + now.BoundNanoseconds)
                {
                    failures[r] = $"read {i}: bound {now.BoundNanoseconds}, status {now.Status}, earliest {now.EarliestNanoseconds}, latest {now.LatestNanoseconds}";
                }
                if (k != previous) distinct[r]++;
                previous = k;
            }
        })).ToArray();

        // A first consistent read before the writer runs: a reader that then meets the writer preempted mid-update (odd
        // generation for longer than it spins) answers with that snapshot, as a client of a live daemon would, instead of
        // having none to fall back on (on 2 cores, 5 busy threads preempt each other all the time).
        client.NowAt(Realtime, Mono);
        writer.Start();
        foreach (var reader in readers) reader.Start();
        foreach (var reader in readers) reader.Join();
        stop.Cancel();
        writer.Join();

        Assert.All(failures, failure => Assert.Null(failure));
        // The writer really was updating while the readers read: each reader saw many different records.
        Assert.True(Interlocked.Read(ref updates) > 1_000, $"only {updates} updates");
        Assert.All(distinct, d => Assert.True(d >= MinChangesSeen, $"a reader saw only {d} changes of record"));
    }
}
