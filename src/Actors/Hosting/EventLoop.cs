using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Dispatch;
using ClockBound.Io;

namespace ClockBound.Actors.Hosting;

/// <summary>
/// One thread that runs the daemon's timers and its actors' mailboxes, and sleeps until the next timer is due or work
/// arrives: the daemon's event loop. Akka reaches it through <see cref="LoopScheduler"/> (the scheduler) and
/// <see cref="LoopExecutorConfigurator"/> (the default dispatcher's executor).
/// </summary>
/// <remarks>
/// Why one thread: the daemon is idle almost all the time, and what an idle process costs is its wake-ups. On the
/// virtual machines it runs on, waking a thread costs tens of microseconds of CPU, waking one on another CPU more (an
/// inter-processor interrupt, a VM exit). Akka's default scheduler ticks whether a timer is due or not and hands every
/// timer to another thread, and every actor message goes through a thread-pool worker. Here a timer that is due and the
/// messages it causes (a poll tick → poller → clock status → segment writer) run in one wake-up of one thread; the thread
/// sleeps on a <see cref="WakeEvent"/> (a bare futex) for exactly as long as nothing is due (docs/performance-notes.md, "Idle CPU").
/// <para>
/// Everything on the loop must be short and must not block: actors never await I/O in a receive, and scheduled actions
/// are as short as Akka requires of its own scheduler's. Timers are run before the queued work of the same wake-up; a
/// repeated timer keeps its rate (each run is due one interval after the previous due time) and, after a stall, runs once
/// and goes on one interval later without catching up. A cancelled timer is dropped when it reaches the front of the
/// queue (a timer cancelled before the loop goes to sleep never wakes it) or when it comes due.
/// </para>
/// </remarks>
public sealed class EventLoop : IDisposable
{
    private readonly Thread _thread;
    private readonly Action<Exception> _onTimerFailure;
    private readonly ConcurrentQueue<IRunnable> _work = new();
    private readonly WakeEvent _wake = new();
    /// <summary>Guards <see cref="_timers"/>, <see cref="_sequence"/> and <see cref="_sleepingUntil"/>.</summary>
    private readonly object _gate = new();
    /// <summary>Pending timers by due time (Stopwatch ticks), then by the order in which they were scheduled.</summary>
    private readonly PriorityQueue<LoopTimer, (long Due, long Sequence)> _timers = new();
    private long _sequence;
    /// <summary>The due time the loop sleeps until (<see cref="long.MaxValue"/>: no timer); <see cref="long.MinValue"/>
    /// while it is awake, since it looks at the timers again before it sleeps.</summary>
    private long _sleepingUntil = long.MinValue;
    private volatile bool _stopped;

    /// <param name="name">The thread's name (Linux shows 15 characters).</param>
    /// <param name="onTimerFailure">Told about an exception thrown by a timer's action (the loop goes on).</param>
    public EventLoop(string name, Action<Exception> onTimerFailure)
    {
        _onTimerFailure = onTimerFailure;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Runs <paramref name="work"/> on the loop, after the work queued before it.</summary>
    public void Execute(IRunnable work)
    {
        _work.Enqueue(work);
        _wake.Set(); // a system call only if the loop sleeps
    }

    /// <summary>Runs <paramref name="timer"/> on the loop after <paramref name="delay"/> (and then every
    /// <see cref="LoopTimer.IntervalTicks"/>, if set), unless it is cancelled first. Ignored once the loop is stopped.</summary>
    public void Schedule(TimeSpan delay, LoopTimer timer)
    {
        var due = StopwatchTicks.After(Stopwatch.GetTimestamp(), StopwatchTicks.From(delay));
        bool wake;
        lock (_gate)
        {
            if (_stopped) return;
            _timers.Enqueue(timer, (due, _sequence++));
            // Wake the loop only if it sleeps past this timer: one added while it is awake (by a timer or an actor on the
            // loop itself, say) or due after the one it sleeps for costs no wake-up.
            wake = due < _sleepingUntil;
        }
        if (wake) _wake.Set();
    }

    /// <summary>Stops the thread (after the work item or timer it is running) and drops pending timers and work.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopped) return;
            _stopped = true;
            _timers.Clear();
        }
        _wake.Set();
        if (Thread.CurrentThread != _thread) _thread.Join();
    }

    private void Run()
    {
        var due = new List<(LoopTimer Timer, long Due)>();
        while (!_stopped)
        {
            RunDueTimers(due);
            while (!_stopped && _work.TryDequeue(out var work))
                work.Run();

            TimeSpan sleep;
            lock (_gate)
            {
                // Work or a Set that arrives after this look makes the wait return at once.
                sleep = _work.IsEmpty ? TimeUntilFirstTimer(out _sleepingUntil) : TimeSpan.Zero;
            }
            if (sleep != TimeSpan.Zero) // positive, or infinite without timers
                _wake.Wait(sleep);
            lock (_gate) _sleepingUntil = long.MinValue;
        }
    }

    private void RunDueTimers(List<(LoopTimer Timer, long Due)> due)
    {
        lock (_gate)
        {
            var now = Stopwatch.GetTimestamp();
            while (_timers.TryPeek(out var timer, out var key) && key.Due <= now)
            {
                _timers.Dequeue();
                if (!timer.IsCancelled) due.Add((timer, key.Due));
            }
        }

        foreach (var (timer, dueAt) in due)
        {
            if (timer.IsCancelled) continue;
            try
            {
                timer.Run();
            }
            catch (Exception ex)
            {
                _onTimerFailure(ex);
            }
            if (timer.IntervalTicks > 0 && !timer.IsCancelled) Reschedule(timer, dueAt);
        }
        due.Clear();
    }

    private void Reschedule(LoopTimer timer, long previousDue)
    {
        var now = Stopwatch.GetTimestamp();
        var next = StopwatchTicks.After(previousDue, timer.IntervalTicks);
        if (next <= now) next = StopwatchTicks.After(now, timer.IntervalTicks);
        lock (_gate)
        {
            // On the loop itself, which looks at the timers again before it sleeps: no wake-up needed.
            if (!_stopped) _timers.Enqueue(timer, (next, _sequence++));
        }
    }

    /// <summary>How long the loop may sleep: until the first timer that is not cancelled is due (<paramref name="due"/>;
    /// zero if it already is), or for ever without timers (<see cref="Timeout.InfiniteTimeSpan"/>, due <see cref="long.MaxValue"/>). Drops the
    /// cancelled timers in front, so that a timer cancelled before the loop sleeps never wakes it (an actor's restarted
    /// timer, such as a watchdog, cancels one at every restart). Under the lock.</summary>
    private TimeSpan TimeUntilFirstTimer(out long due)
    {
        while (_timers.TryPeek(out var head, out _) && head.IsCancelled) _timers.Dequeue();
        if (!_timers.TryPeek(out _, out var key))
        {
            due = long.MaxValue;
            return Timeout.InfiniteTimeSpan;
        }
        due = key.Due;
        var until = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), key.Due);
        return until > TimeSpan.Zero ? until : TimeSpan.Zero;
    }
}

/// <summary>Work scheduled on an <see cref="EventLoop"/>; cancelled through Akka's <see cref="Akka.Actor.ICancelable"/>
/// (null when the caller cannot cancel).</summary>
public abstract class LoopTimer(Akka.Actor.ICancelable? cancelable)
{
    /// <summary>Period of a repeated timer in Stopwatch ticks (<see cref="StopwatchTicks.From"/>); 0 for a one-off.</summary>
    public long IntervalTicks { get; init; }

    public bool IsCancelled => cancelable?.IsCancellationRequested == true;

    public abstract void Run();
}
