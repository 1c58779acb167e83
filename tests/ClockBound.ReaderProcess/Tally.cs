using ClockBound.Io.Segment;

namespace ClockBound.ReaderProcess;

/// <summary>Counts what a loop saw; becomes the <see cref="ReaderSummary"/>. One thread.</summary>
internal sealed class Tally(string mode)
{
    /// <summary>Enough to show every transition of a fault scenario without printing millions of entries under load.</summary>
    private const int MaxSequenceLength = 200;

    /// <summary>Reads per status value 0..3; index 4 counts values outside the enum. An array, not a dictionary: this
    /// runs once per read, millions of times.</summary>
    private readonly long[] _statuses = new long[5];
    private readonly List<ClockStatus> _sequence = [];
    private string? _firstProblem;

    public long Count;
    public long Errors;
    public long Inconsistent;
    public long Updates;
    public long LastAsOfNanoseconds;

    public void Status(ClockStatus status)
    {
        _statuses[status is >= ClockStatus.Unknown and <= ClockStatus.Disrupted ? (int)status : 4]++;
        if (_sequence.Count < MaxSequenceLength && (_sequence.Count == 0 || _sequence[^1] != status))
            _sequence.Add(status);
    }

    /// <summary>Counts a new record when its as_of differs from the last one seen.</summary>
    public void AsOf(long asOfNanoseconds)
    {
        if (asOfNanoseconds == LastAsOfNanoseconds) return;
        Updates++;
        LastAsOfNanoseconds = asOfNanoseconds;
    }

    public void Error(Exception e)
    {
        Errors++;
        _firstProblem ??= $"read {Count}: {e.GetType().Name}: {e.Message}";
    }

    public void Inconsistency(string what)
    {
        Inconsistent++;
        _firstProblem ??= $"read {Count}: {what}";
    }

    public ReaderSummary ToSummary()
    {
        var statuses = new Dictionary<string, long>();
        for (int i = 0; i < _statuses.Length; i++)
        {
            if (_statuses[i] > 0) statuses[i < 4 ? ((ClockStatus)i).ToString() : "invalid"] = _statuses[i];
        }
        return new(mode, Count, Errors, Inconsistent, Updates, LastAsOfNanoseconds, statuses,
            [.. _sequence.Select(s => Enum.IsDefined(s) ? s.ToString() : $"invalid({(int)s})")], _firstProblem);
    }
}
