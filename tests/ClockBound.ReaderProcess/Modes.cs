using ClockBound.Client;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.ReaderProcess;

/// <summary>The three loops of the program. Each returns its summary; any exception inside a read is counted, never thrown.</summary>
internal static class Modes
{
    /// <summary>
    /// A client application: <see cref="ClockBoundClient.Now"/> in a loop, every answer checked (earliest ≤ latest,
    /// bound ≥ 0, latest − earliest = 2 × bound, a defined status), and the raw record checked too through a
    /// <see cref="SegmentReader"/> (void_after = as_of + 1000 s, as the daemon always writes it; a defined status).
    /// Prints "ready" after the first read.
    /// </summary>
    public static ReaderSummary Read(string shmPath, string vmClockPath, RunLimit limit)
    {
        var tally = new Tally("read");
        ClockBoundClient? client = null;
        SegmentReader? segment = null;
        try
        {
            client = ClockBoundClient.Open(shmPath, vmClockPath);
            segment = SegmentReader.Open(shmPath);
            while (!limit.Reached(tally.Count))
            {
                tally.Count++;
                try
                {
                    ClockBoundTime now = client.Now();
                    tally.Status(now.Status);
                    CheckInterval(now, tally);
                    ClockErrorBound record = segment.Snapshot();
                    tally.AsOf(record.AsOf.TotalNanoseconds);
                    CheckDaemonRecord(record, tally);
                }
                catch (Exception e)
                {
                    tally.Error(e);
                }
                if (tally.Count == 1) Console.WriteLine("ready");
            }
        }
        catch (Exception e)
        {
            // Opening failed: the reader never got to read.
            tally.Error(e);
        }
        finally
        {
            segment?.Dispose();
            client?.Dispose();
        }
        return tally.ToSummary();
    }

    /// <summary>
    /// Snapshots of the load writer's records (<see cref="CounterRecord"/>) in a loop: each must be exactly one record
    /// (every field derived from the same counter), and the counter must never go back.
    /// </summary>
    public static ReaderSummary Check(string shmPath, RunLimit limit)
    {
        var tally = new Tally("check");
        long last = 0;
        try
        {
            using var segment = SegmentReader.Open(shmPath);
            _ = segment.Snapshot();
            Console.WriteLine("ready");
            // The read budget counts from the writer's start, not from idle reads of its first record.
            limit.WaitForGo();
            while (!limit.Reached(tally.Count))
            {
                tally.Count++;
                try
                {
                    ClockErrorBound record = segment.Snapshot();
                    if (CounterRecord.CounterOf(record) is not { } n)
                        tally.Inconsistency($"torn record: {record}");
                    else if (n < last)
                        tally.Inconsistency($"counter went back from {last} to {n}");
                    else
                    {
                        last = n;
                        tally.AsOf(record.AsOf.TotalNanoseconds);
                    }
                }
                catch (Exception e)
                {
                    tally.Error(e);
                }
            }
        }
        catch (Exception e)
        {
            tally.Error(e);
        }
        return tally.ToSummary();
    }

    /// <summary>
    /// The load writer: <see cref="SegmentWriter.Write"/> of counter records 1, 2, 3, ... as fast as it can for
    /// <paramref name="seconds"/> (counted from the moment it goes). Prints "ready" after record 1; with
    /// <paramref name="waitForGo"/> it then waits for a line "go" on standard input before going on, so that readers can
    /// open the segment and take their first snapshot first (a reader that has none yet can be starved by such a writer).
    /// </summary>
    public static ReaderSummary Write(string shmPath, double seconds, bool waitForGo)
    {
        var tally = new Tally("write");
        try
        {
            using var writer = SegmentWriter.Open(shmPath);
            writer.Write(CounterRecord.For(++tally.Count));
            Console.WriteLine("ready");
            if (waitForGo)
            {
                while (Console.In.ReadLine() is { } line && line.Trim() != "go") { }
            }
            var until = new RunLimit(seconds, maxOperations: 0, stopOnStdin: false);
            while (!until.Reached(tally.Count))
            {
                tally.Count++;
                writer.Write(CounterRecord.For(tally.Count));
            }
            tally.Updates = tally.Count;
            tally.LastAsOfNanoseconds = CounterRecord.For(tally.Count).AsOf.TotalNanoseconds;
        }
        catch (Exception e)
        {
            tally.Error(e);
        }
        return tally.ToSummary();
    }

    private static void CheckInterval(in ClockBoundTime now, Tally tally)
    {
        if (now.EarliestNanoseconds > now.LatestNanoseconds)
            tally.Inconsistency($"earliest {now.EarliestNanoseconds} after latest {now.LatestNanoseconds}");
        else if (now.BoundNanoseconds < 0)
            tally.Inconsistency($"negative bound {now.BoundNanoseconds}");
        else if (now.LatestNanoseconds - now.EarliestNanoseconds != 2 * now.BoundNanoseconds)
            tally.Inconsistency($"interval [{now.EarliestNanoseconds}, {now.LatestNanoseconds}] is not 2 × bound {now.BoundNanoseconds} wide");
        else if (now.Status is < ClockStatus.Unknown or > ClockStatus.Disrupted)
            tally.Inconsistency($"client status {(int)now.Status} is not a defined clock status");
    }

    private static void CheckDaemonRecord(in ClockErrorBound record, Tally tally)
    {
        if (record.VoidAfter.NanosecondsSince(record.AsOf) != CounterRecord.VoidAfterSeconds * Timespec.NanosPerSecond)
            tally.Inconsistency($"torn daemon record: void_after {record.VoidAfter} is not as_of {record.AsOf} + {CounterRecord.VoidAfterSeconds} s");
        else if (record.Status is < ClockStatus.Unknown or > ClockStatus.Disrupted)
            tally.Inconsistency($"stored status {(int)record.Status} is not a defined clock status");
    }
}
