using ClockBound.Io.Segment;

namespace ClockBound.TestSupport;

/// <summary>
/// Watches a segment from a background thread and records every distinct (status, marker) it sees, in order, through the
/// project's reader. The thread re-reads the mapping continuously (yielding between reads) so that short-lived states,
/// such as Disrupted while chronyd is being reset, are not missed. Dispose stops it.
/// </summary>
public sealed class SegmentRecorder : IDisposable
{
    private readonly List<ClockErrorBound> _states = [];
    private readonly Thread _thread;
    private readonly string _path;
    private volatile bool _stop;
    private Exception? _error;

    public SegmentRecorder(string path)
    {
        _path = path;
        _thread = new Thread(Run) { IsBackground = true, Name = "segment-recorder" };
        _thread.Start();
    }

    /// <summary>The distinct (status, marker) records seen so far, in order.</summary>
    public IReadOnlyList<ClockErrorBound> States
    {
        get
        {
            if (_error is not null) throw new InvalidOperationException($"recording {_path} failed", _error);
            lock (_states) return [.. _states];
        }
    }

    public string Describe() => string.Join(" -> ", States.Select(s => $"{s.Status}(marker {s.DisruptionMarker})"));

    private void Run()
    {
        try
        {
            using var reader = SegmentReader.Open(_path);
            ClockErrorBound? last = null;
            while (!_stop)
            {
                var snapshot = reader.Snapshot();
                if (last is not { } l || l.Status != snapshot.Status || l.DisruptionMarker != snapshot.DisruptionMarker)
                {
                    lock (_states) _states.Add(snapshot);
                    last = snapshot;
                }
                Thread.SpinWait(50); // no Yield: a descheduled recorder could miss a state that lasts milliseconds
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
