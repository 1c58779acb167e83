using System.Diagnostics;
using Akka.Event;

namespace ClockBound.Actors;

/// <summary>
/// Keeps a failure that repeats at the poll rate (10 per second for chronyd) from flooding the log: the first occurrence of
/// a message is logged, identical repeats are counted and summarised once per <see cref="SummaryInterval"/>, and the
/// recovery is logged with the number of failures it ends. One instance per actor; not thread-safe (actor state).
/// </summary>
internal sealed class RepeatedFailureLog(ILoggingAdapter log, string subject)
{
    /// <summary>60 s: often enough to show that a problem persists, rare enough to keep the journal readable.</summary>
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(60);

    private string? _lastMessage;
    private long _suppressed;
    private long _total;
    private long _summaryStartedAt;

    /// <summary>Records one failure; logs it if it differs from the previous one, or a summary if one is due.</summary>
    public void Failure(string message, LogLevel level = LogLevel.WarningLevel)
    {
        _total++;
        if (message != _lastMessage)
        {
            FlushSummary(level);
            _lastMessage = message;
            _summaryStartedAt = Stopwatch.GetTimestamp();
            Write(level, $"{subject}: {message}");
            return;
        }

        _suppressed++;
        if (Stopwatch.GetElapsedTime(_summaryStartedAt) >= SummaryInterval)
        {
            FlushSummary(level);
            _summaryStartedAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Records a success; logs the recovery if failures preceded it.</summary>
    public void Success()
    {
        if (_total == 0) return;
        FlushSummary(LogLevel.WarningLevel);
        log.Info("{0}: recovered after {1} failed attempts", subject, _total);
        _lastMessage = null;
        _total = 0;
    }

    private void FlushSummary(LogLevel level)
    {
        if (_suppressed == 0) return;
        Write(level, $"{subject}: {_suppressed} more failures: {_lastMessage}");
        _suppressed = 0;
    }

    private void Write(LogLevel level, string line) => log.Log(level, null, line);
}
