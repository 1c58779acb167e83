using System.Diagnostics;

namespace ClockBound.ReaderProcess;

/// <summary>When a loop stops: after a duration, after a number of operations (0 = no limit), or, if asked, when a line
/// "stop" or the end of standard input arrives (the tests' way to end all readers at a chosen moment).</summary>
internal sealed class RunLimit
{
    /// <summary>Reading the clock costs about as much as one operation: look at it every 64 operations only.</summary>
    private const long ClockCheckMask = 63;

    private readonly long _maxOperations;
    private readonly double _seconds;
    private readonly bool _goOnStdin;
    private readonly ManualResetEventSlim _go = new();
    private long _deadline;
    private volatile bool _stopRequested;

    /// <param name="goOnStdin">The budget starts only at a line "go" on standard input (see <see cref="WaitForGo"/>).</param>
    public RunLimit(double seconds, long maxOperations, bool stopOnStdin, bool goOnStdin = false)
    {
        _maxOperations = maxOperations;
        _seconds = seconds;
        _goOnStdin = goOnStdin;
        _deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        if (stopOnStdin || goOnStdin)
            new Thread(WatchStdin) { IsBackground = true, Name = "stdin" }.Start();
    }

    /// <summary>With "go on stdin": blocks until the line "go" (or the end of input), then starts the time budget.</summary>
    public void WaitForGo()
    {
        if (!_goOnStdin) return;
        _go.Wait();
        _deadline = Stopwatch.GetTimestamp() + (long)(_seconds * Stopwatch.Frequency);
    }

    public bool Reached(long operations) =>
        _stopRequested
        || (_maxOperations > 0 && operations >= _maxOperations)
        || ((operations & ClockCheckMask) == 0 && Stopwatch.GetTimestamp() >= _deadline);

    private void WatchStdin()
    {
        if (_goOnStdin)
        {
            while (Console.In.ReadLine() is { } line && line.Trim() != "go") { }
            _go.Set();
        }
        while (Console.In.ReadLine() is { } line && line.Trim() != "stop") { }
        _stopRequested = true;
    }
}
