using ClockBound.Actors.StateMachine;
using ClockBound.Io;
using ClockBound.Io.Bound;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Soak;

/// <summary>
/// Follows every record a <see cref="SegmentTimeline"/> sees and checks the soak's invariants on it, per daemon run:
/// the status sequence is one the state machine allows (a run starts again from Unknown), as_of never moves back within a
/// run, the bound never shrinks between two Synchronized records with the same as_of, and a VMClock marker the soak
/// changed is published as Synchronized only after a chronyd reset (checked in the logs a little later, as log lines
/// reach the driver after the records). The generation is followed by <see cref="GenerationWatch"/>. One timeline per
/// segment file: a repaired segment is a new file and gets a new one. Not thread-safe: the driver's check loop and its
/// fault schedule call it under <see cref="Gate"/>.
/// </summary>
internal sealed class Invariants : IDisposable
{
    /// <summary>How long after a Synchronized record with a new marker the log evidence of the reset may still arrive:
    /// the daemon's loggers run on the thread pool and the lines come through a pipe, far faster than this.</summary>
    private static readonly TimeSpan LogLateness = TimeSpan.FromSeconds(15);

    /// <summary>Status pairs (from, to) for which some (chrony, disruption) input gives that step, from the daemon's own
    /// table: a changed table changes this check with it.</summary>
    private static readonly HashSet<(ClockStatus From, ClockStatus To)> Allowed =
    [
        .. from current in Enum.GetValues<ClockStatus>()
           from chrony in Enum.GetValues<ChronyClockStatus>()
           from disruption in Enum.GetValues<DisruptionState>()
           select (current, ClockStatusTransitions.NextWithDisruptionSupport(current, chrony, disruption)),
    ];

    private readonly List<string> _violations = [];
    private readonly Dictionary<ulong, Bump> _bumps = [];
    private readonly List<(ulong Marker, SegmentTimeline.Entry Entry, DateTime SeenAt)> _unverified = [];
    private readonly Func<IReadOnlyList<DaemonProcess>> _daemons;
    private readonly Func<string> _chronydLog;

    private SegmentTimeline? _timeline;
    private GenerationWatch? _generation;
    private int _next; // the next timeline entry to check
    private int _runStart; // the first entry of the current daemon run
    private int _run;
    private ClockStatus _status;
    private Timespec? _lastAsOf;
    private ClockErrorBound? _lastSynchronized;

    public Invariants(Func<IReadOnlyList<DaemonProcess>> daemons, Func<string> chronydLog)
    {
        _daemons = daemons;
        _chronydLog = chronydLog;
    }

    /// <summary>Held by whoever calls into this checker.</summary>
    public object Gate { get; } = new();

    public IReadOnlyList<string> Violations => _violations;

    public long RecordsChecked { get; private set; }

    public long TransitionsChecked { get; private set; }

    /// <summary>Starts following the segment at <paramref name="shmPath"/> (a new file: a fresh timeline and generation).</summary>
    public void Follow(string shmPath)
    {
        Unfollow();
        _timeline = new SegmentTimeline(shmPath);
        _generation = new GenerationWatch(shmPath);
        _next = 0;
        _runStart = 0;
        _status = ClockStatus.Unknown;
        _lastAsOf = null;
    }

    /// <summary>Checks what is left, then stops following the current file.</summary>
    public void Unfollow()
    {
        if (_timeline is null) return;
        Check();
        _timeline.Dispose();
        _generation!.Dispose();
        foreach (var problem in _generation.Problems) Violation(problem);
        _timeline = null;
        _generation = null;
    }

    /// <summary>A new daemon is about to start on the same file (the previous one is dead): records from now on belong to
    /// run <paramref name="run"/>, which starts again from Unknown.</summary>
    public void BeginRun(int run)
    {
        Check();
        _run = run;
        _runStart = _timeline?.Entries.Count ?? 0;
        _status = ClockStatus.Unknown;
        _lastAsOf = null;
    }

    /// <summary>The soak changed the VMClock's marker to <paramref name="marker"/> now.</summary>
    public void MarkerChanged(ulong marker)
    {
        var daemons = _daemons();
        _bumps[marker] = new Bump(daemons.Count - 1, daemons.Count > 0 ? daemons[^1].Output.Count : 0, _chronydLog().Length);
    }

    /// <summary>The entries seen so far (for recovery waits).</summary>
    public IReadOnlyList<SegmentTimeline.Entry> Entries => _timeline?.Entries ?? [];

    public string DescribeTail(int count) => string.Join('\n', Entries.TakeLast(count));

    public void Violation(string what)
    {
        lock (Gate) _violations.Add($"{DateTime.UtcNow:HH:mm:ss} run {_run}: {what}");
    }

    /// <summary>Checks every entry not checked yet, and the markers still waiting for their log evidence.</summary>
    public void Check()
    {
        if (_timeline is not null)
        {
            var entries = _timeline.Entries;
            for (; _next < entries.Count; _next++)
            {
                if (_next < _runStart) continue; // the previous run's records, already checked
                CheckEntry(entries[_next]);
            }
        }
        CheckMarkers(final: false);
    }

    /// <summary>At the end: every marker must have its evidence by now.</summary>
    public void Finish()
    {
        Unfollow();
        CheckMarkers(final: true);
    }

    private void CheckEntry(SegmentTimeline.Entry entry)
    {
        var record = entry.Record;
        RecordsChecked++;
        if (record.Status != _status || _next == _runStart)
        {
            TransitionsChecked++;
            if (!Allowed.Contains((_status, record.Status)))
                Violation($"status {_status} -> {record.Status} is not a step of the state machine: {entry}");
            _status = record.Status;
        }
        if (_lastAsOf is { } previous && record.AsOf < previous)
            Violation($"as_of went back from {previous} to {record.AsOf}: {entry}");
        _lastAsOf = record.AsOf;
        if (record.Status == ClockStatus.Synchronized)
        {
            if (_lastSynchronized is { } last && last.AsOf == record.AsOf && record.BoundNanoseconds < last.BoundNanoseconds)
                Violation($"bound shrank from {last.BoundNanoseconds} to {record.BoundNanoseconds} ns without a new sample (as_of {record.AsOf}): {entry}");
            _lastSynchronized = record;
            if (_bumps.TryGetValue(record.DisruptionMarker, out var bump) && !bump.Verified && !bump.Pending)
            {
                bump.Pending = true;
                _unverified.Add((record.DisruptionMarker, entry, DateTime.UtcNow));
            }
        }
    }

    private void CheckMarkers(bool final)
    {
        for (int i = _unverified.Count - 1; i >= 0; i--)
        {
            var (marker, entry, seenAt) = _unverified[i];
            var bump = _bumps[marker];
            if (ResetLoggedSince(bump))
            {
                bump.Verified = true;
                _unverified.RemoveAt(i);
            }
            else if (final || DateTime.UtcNow - seenAt > LogLateness)
            {
                Violation($"marker {marker} published as Synchronized with no chronyd reset in the daemon's or chronyd's log since it changed: {entry}");
                bump.Verified = true; // reported once
                _unverified.RemoveAt(i);
            }
        }
    }

    /// <summary>"Resetting chronyd's sources" in the log of the daemon that ran at the bump (after that moment) or of a
    /// later one; or chronyd's own "Can't synchronise: no selectable sources" written after the bump.</summary>
    private bool ResetLoggedSince(Bump bump)
    {
        var daemons = _daemons();
        for (int d = Math.Max(bump.Daemon, 0); d < daemons.Count; d++)
        {
            var lines = daemons[d].Output;
            int from = d == bump.Daemon ? bump.OutputLines : 0;
            for (int l = from; l < lines.Count; l++)
                if (lines[l].Contains("Resetting chronyd's sources", StringComparison.Ordinal)) return true;
        }
        string log = _chronydLog();
        return log.Length > bump.ChronydLogLength
            && log.AsSpan(bump.ChronydLogLength).Contains("Can't synchronise: no selectable sources", StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _timeline?.Dispose();
        _generation?.Dispose();
    }

    /// <summary>Where the logs stood when the marker changed.</summary>
    private sealed class Bump(int daemon, int outputLines, int chronydLogLength)
    {
        public int Daemon { get; } = daemon;
        public int OutputLines { get; } = outputLines;
        public int ChronydLogLength { get; } = chronydLogLength;
        public bool Pending { get; set; }
        public bool Verified { get; set; }
    }
}
