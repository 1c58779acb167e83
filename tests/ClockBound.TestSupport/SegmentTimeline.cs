using System.Diagnostics;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.TestSupport;

/// <summary>
/// Every distinct record of a segment, in order, as a client reading it through the project's reader saw it, with the
/// moment it was first seen on both clocks (CLOCK_MONOTONIC_COARSE, the clock of as_of, and CLOCK_REALTIME). A background
/// thread re-reads the mapping every millisecond: the daemon writes at most every 100 ms, so no record is missed.
/// </summary>
public sealed class SegmentTimeline : IDisposable
{
    /// <summary>One distinct record and when it was first seen. <see cref="Index"/> is its position in the timeline.</summary>
    public sealed record Entry(int Index, ClockErrorBound Record, Timespec SeenMonotonic, Timespec SeenRealtime)
    {
        public ClockStatus Status => Record.Status;

        public override string ToString() =>
            $"#{Index} {Record.Status} as_of {Record.AsOf} bound {Record.BoundNanoseconds} ns marker {Record.DisruptionMarker}, seen at mono {SeenMonotonic}";
    }

    private readonly List<Entry> _entries = [];
    private readonly Thread _thread;
    private readonly string _path;
    private volatile bool _stop;
    private Exception? _error;

    /// <summary>Starts recording; the segment must exist and have been written.</summary>
    public SegmentTimeline(string path)
    {
        _path = path;
        var reader = SegmentReader.Open(path); // here, so that a missing segment fails the test at once
        _thread = new Thread(() => Run(reader)) { IsBackground = true, Name = "segment-timeline" };
        _thread.Start();
    }

    public IReadOnlyList<Entry> Entries
    {
        get
        {
            if (_error is not null) throw new InvalidOperationException($"recording {_path} failed", _error);
            lock (_entries) return [.. _entries];
        }
    }

    public string Describe() => string.Join('\n', Entries);

    /// <summary>Polls until an entry matches <paramref name="match"/> and returns the first that does; fails with the timeline
    /// and the daemon's output on time-out or if the daemon exits.</summary>
    public async Task<Entry> WaitForAsync(Func<Entry, bool> match, TimeSpan timeout, string what, DaemonProcess? daemon = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            if (Entries.FirstOrDefault(match) is { } entry) return entry;
            if (stopwatch.Elapsed > timeout || daemon is { HasExited: true })
                throw new TimeoutException($"{what}: not seen within {timeout}{(daemon is { HasExited: true } ? " (the daemon exited)" : "")}. " +
                    $"Timeline:\n{Describe()}\nclockbound output:\n{daemon?.OutputText}");
            await Task.Delay(10);
        }
    }

    private void Run(SegmentReader reader)
    {
        try
        {
            using (reader)
            {
                ClockErrorBound? last = null;
                while (!_stop)
                {
                    var record = reader.Snapshot();
                    if (record != last)
                    {
                        lock (_entries) _entries.Add(new Entry(_entries.Count, record, Clocks.MonotonicCoarse(), Clocks.Realtime()));
                        last = record;
                    }
                    Thread.Sleep(1); // a polling period, not synchronisation: records last at least 100 ms
                }
            }
        }
        catch (Exception e)
        {
            _error = e;
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
