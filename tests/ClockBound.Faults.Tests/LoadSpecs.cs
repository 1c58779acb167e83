using ClockBound.ReaderProcess;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Faults.Tests;

/// <summary>
/// The seqlock across processes under load (issue 5): one process writes records as fast as it can, eight others read
/// them through the project's <c>SegmentReader</c>; every record's fields derive from one counter, so a torn read cannot
/// pass for a real one.
/// </summary>
public sealed class LoadSpecs(ITestOutputHelper output)
{
    private const int Readers = 8;

    /// <summary>How long the writer writes flat out.</summary>
    private const string WriteSeconds = "10";

    /// <summary>Reads per reader at most (a reader stops earlier when the writer is done).</summary>
    private const string MaxReads = "10000000";

    /// <summary>The readers stop when told to ("stop"); this only bounds a run whose test died.</summary>
    private const string ReaderSafetySeconds = "120";

    /// <summary>Floors far below what a 2-core machine does (millions of writes, millions of reads per reader): they only
    /// catch a loop that did not run. A writer that never pauses leaves the generation odd almost all the time, so a
    /// reader mostly falls back to its last consistent record and sees few distinct ones (20 to 2000 per 10^7 reads
    /// measured here): two prove it followed the writer.</summary>
    private const long MinWrites = 100_000, MinReadsPerReader = 10_000, MinRecordsSeenPerReader = 2;

    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Readers_in_8_processes_must_never_see_a_torn_record_while_a_writer_process_writes_flat_out()
    {
        using var directory = new TempDirectory("cbl");
        string shmPath = directory.Combine("shm0");

        await using var writer = ReaderProcessRun.Start("writer", ["write", shmPath, WriteSeconds, "--go-on-stdin"]);
        await writer.WaitReadyAsync(ProcessTimeout);
        var readers = Enumerable.Range(1, Readers)
            .Select(i => ReaderProcessRun.Start($"reader {i}", ["check", shmPath, ReaderSafetySeconds, MaxReads, "--stop-on-stdin", "--go-on-stdin"]))
            .ToList();
        try
        {
            // Every reader has its first snapshot before the storm (a reader with none yet can be starved by this writer).
            foreach (var reader in readers) await reader.WaitReadyAsync(ProcessTimeout);
            writer.Send("go");
            foreach (var reader in readers) reader.Send("go");
            var (writerExit, written) = await writer.WaitForSummaryAsync(ProcessTimeout);
            foreach (var reader in readers) reader.Send("stop");
            var results = new List<(string Name, int ExitCode, ReaderSummary Summary)>();
            foreach (var reader in readers)
            {
                var (exitCode, summary) = await reader.WaitForSummaryAsync(ProcessTimeout);
                results.Add((reader.Name, exitCode, summary));
            }

            output.WriteLine($"writer: {written.Count} records in {WriteSeconds} s (exit {writerExit})");
            foreach (var (name, exitCode, summary) in results)
                output.WriteLine($"{name}: {summary.Count} reads, {summary.Updates} distinct records seen, {summary.Inconsistent} inconsistent, " +
                                 $"{summary.Errors} errors (exit {exitCode}){(summary.FirstProblem is { } p ? $": {p}" : "")}");
            output.WriteLine($"total: {results.Sum(r => r.Summary.Count)} reads, {results.Sum(r => r.Summary.Inconsistent)} inconsistent");

            Assert.True(writerExit == 0 && written.Clean, $"writer: exit {writerExit}, {written.FirstProblem}");
            Assert.True(written.Count >= MinWrites, $"the writer wrote only {written.Count} records");
            Assert.All(results, r =>
            {
                Assert.True(r.ExitCode == 0 && r.Summary.Clean,
                    $"{r.Name}: exit {r.ExitCode}, {r.Summary.Inconsistent} inconsistent, {r.Summary.Errors} errors; first: {r.Summary.FirstProblem}");
                Assert.True(r.Summary.Count >= MinReadsPerReader, $"{r.Name} read only {r.Summary.Count} times");
                Assert.True(r.Summary.Updates >= MinRecordsSeenPerReader, $"{r.Name} saw only {r.Summary.Updates} distinct records");
            });
        }
        finally
        {
            foreach (var reader in readers) await reader.DisposeAsync();
        }
    }
}
