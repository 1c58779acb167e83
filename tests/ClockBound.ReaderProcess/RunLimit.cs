using System.Diagnostics;

namespace ClockBound.ReaderProcess;

/// <summary>When a loop stops: after a duration, after a number of operations (0 = no limit), or, if asked, when a line
/// "stop" or the end of standard input arrives (the tests' way to end all readers at a chosen moment).</summary>
internal sealed class RunLimit
{
    /// <summary>Reading the clock costs about as much as one operation: look at it every 64 operations only.</summary>
    private const long ClockCheckMask = 63;

    private readonly long _maxOperations;
    private readonly long _deadline;
    private volatile bool _stopRequested;

    public RunLimit(double seconds, long maxOperations, bool stopOnStdin)
    {
        _maxOperations = maxOperations;
        _deadline = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        if (stopOnStdin)
            new Thread(WatchStdin) { IsBackground = true, Name = "stdin-stop" }.Start();
    }

    public bool Reached(long operations) =>
        _stopRequested
        || (_maxOperations > 0 && operations >= _maxOperations)
        || ((operations & ClockCheckMask) == 0 && Stopwatch.GetTimestamp() >= _deadline);

    private void WatchStdin()
    {
        while (Console.In.ReadLine() is { } line && line.Trim() != "stop") { }
        _stopRequested = true;
    }
}
