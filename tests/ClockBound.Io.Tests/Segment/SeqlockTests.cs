using System.Diagnostics;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Segment;

public sealed class SeqlockTests
{
    private const int ReaderThreads = 3;
    private const int MinimumReadsPerThread = 1_000_000;
    private const int MinimumDistinctRecordsPerThread = 1_000;

    /// <summary>Every field derives from <paramref name="n"/>, so a torn copy cannot pass <see cref="IsConsistent"/>.</summary>
    private static ClockErrorBound Record(long n) => new(
        new Timespec(n, n % 1_000_000_000),
        new Timespec(n + 7, n * 3 % 1_000_000_000),
        n * 5,
        (ulong)n * 11,
        (uint)(n % 999_999_999),
        (ClockStatus)(n % 4),
        n % 2 == 1);

    private static bool IsConsistent(in ClockErrorBound record) => record == Record(record.AsOf.Seconds);

    private sealed class ReaderResult
    {
        public long Reads;
        public long Inconsistent;
        public long DistinctRecords;
    }

    [Fact]
    public void Snapshots_must_be_consistent_while_a_writer_updates_continuously()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("shm0");
        using var writer = SegmentWriter.Open(path);
        writer.Write(Record(1));

        var results = new ReaderResult[ReaderThreads];
        var readers = new Thread[ReaderThreads];
        using var ready = new CountdownEvent(ReaderThreads);
        using var start = new ManualResetEventSlim();
        var deadline = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(60);
        for (int i = 0; i < ReaderThreads; i++)
        {
            var result = results[i] = new ReaderResult();
            readers[i] = new Thread(() =>
            {
                // A separate reader = a separate mapping of the same file.
                using var reader = SegmentReader.Open(path);
                long previous = reader.Snapshot().AsOf.Seconds;
                ready.Signal();
                start.Wait();
                while ((result.Reads < MinimumReadsPerThread || result.DistinctRecords < MinimumDistinctRecordsPerThread)
                       && deadline.Elapsed < limit)
                {
                    var record = reader.Snapshot();
                    result.Reads++;
                    if (!IsConsistent(record)) result.Inconsistent++;
                    if (record.AsOf.Seconds != previous) result.DistinctRecords++;
                    previous = record.AsOf.Seconds;
                }
            }) { IsBackground = true };
            readers[i].Start();
        }
        ready.Wait();

        long written = 1;
        var writerThread = new Thread(() =>
        {
            while (readers.Any(r => r.IsAlive)) // an Any per batch keeps the check cheap relative to the writes
                for (int k = 0; k < 64; k++) writer.Write(Record(++written));
        }) { IsBackground = true };
        writerThread.Start();
        start.Set();

        foreach (var reader in readers) Assert.True(reader.Join(limit + TimeSpan.FromSeconds(10)), "reader thread did not finish");
        Assert.True(writerThread.Join(TimeSpan.FromSeconds(10)), "writer thread did not finish");

        Assert.All(results, r =>
        {
            Assert.Equal(0, r.Inconsistent);
            Assert.True(r.Reads >= MinimumReadsPerThread, $"only {r.Reads} reads");
            Assert.True(r.DistinctRecords >= MinimumDistinctRecordsPerThread, $"only {r.DistinctRecords} distinct records");
        });
        Assert.True(written > 65_536, $"only {written} writes: the generation never wrapped");
    }
}
