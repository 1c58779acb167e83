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
/// sleeps on a <see cref="WakeEvent"/> (a bare futex) for exactly as long as nothing is due (BENCHMARKS.md, "Idle CPU").
/// <para>
/// Everything on the loop must be short and must not block: actors never await I/O in a receive, and scheduled actions
/// are as short as Akka requires of its own scheduler's. Timers are run before the queued work of the same wake-up; a
/// repeated timer keeps its rate (each run is due one interval after the previous due time) and, after a stall, runs once
/// and goes on one interval later without catching up. A cancelled timer is dropped when it reaches the front of the
/// queue (a timer cancelled before the loop goes to sleep never wakes it) or when it comes due.
/// </para>
/// <para>
/// Timers fire on a grid of <see cref="Tick"/> (Akka's <c>akka.scheduler.tick-duration</c>): a timer due at t runs at
/// the first multiple of the tick (on the monotonic clock) at or after t. That is the precision Akka's own scheduler
/// promises, and it is what lets timers share wake-ups: with a 10 ms tick the VMClock poll (every 10 ms), the chrony poll
/// (every 100 ms), the read of chronyd's reply (the next tick) and the heartbeat all fall on the same instants, so the
/// idle daemon wakes 100 times a second in all instead of once per timer. Unlike Akka's scheduler the loop does not
/// wake on ticks where nothing is due.
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
    /// <summary>Pending timers, each with the time it is due, by the time it fires (its due time on the tick grid, in
    /// Stopwatch ticks), then by the order in which they were scheduled. A repeated timer's next due time is one interval
    /// after the previous due time, not after the time it fired, so a period that is no multiple of the tick keeps its rate.</summary>
    private readonly PriorityQueue<(LoopTimer Timer, long Due), (long Fires, long Sequence)> _timers = new();
    /// <summary>The grid timers fire on, in Stopwatch ticks (1: none).</summary>
    private readonly long _tick;
    private long _sequence;
    /// <summary>The due time the loop sleeps until (<see cref="long.MaxValue"/>: no timer); <see cref="long.MinValue"/>
    /// while it is awake, since it looks at the timers again before it sleeps.</summary>
    private long _sleepingUntil = long.MinValue;
    private volatile bool _stopped;

    /// <param name="name">The thread's name (Linux shows 15 characters).</param>
    /// <param name="onTimerFailure">Told about an exception thrown by a timer's action (the loop goes on).</param>
    /// <param name="tick">The grid timers fire on (<see cref="Tick"/>); none (exact due times) by default.</param>
    public EventLoop(string name, Action<Exception> onTimerFailure, TimeSpan? tick = null)
    {
        _onTimerFailure = onTimerFailure;
        _tick = Math.Max(1, StopwatchTicks.From(tick ?? TimeSpan.Zero));
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>The grid timers fire on: each runs at the first multiple of it at or after its due time.</summary>
    public TimeSpan Tick => Stopwatch.GetElapsedTime(0, _tick);

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
        var fires = OnTheGrid(due, _tick);
        bool wake;
        lock (_gate)
        {
            if (_stopped) return;
            _timers.Enqueue((timer, due), (fires, _sequence++));
            // Wake the loop only if it sleeps past this timer: one added while it is awake (by a timer or an actor on the
            // loop itself, say) or due after the one it sleeps for costs no wake-up.
            wake = fires < _sleepingUntil;
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
            while (_timers.TryPeek(out var timer, out var key) && key.Fires <= now)
            {
                _timers.Dequeue();
                if (!timer.Timer.IsCancelled) due.Add(timer);
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
        var fires = OnTheGrid(next, _tick);
        // Missed only if the grid point it fires on has passed: a due time just after a grid point is often past by the
        // time the run before it ends, yet the loop is on time for it.
        if (fires <= now)
        {
            next = StopwatchTicks.After(now, timer.IntervalTicks);
            fires = OnTheGrid(next, _tick);
        }
        lock (_gate)
        {
            // On the loop itself, which looks at the timers again before it sleeps: no wake-up needed.
            if (!_stopped) _timers.Enqueue((timer, next), (fires, _sequence++));
        }
    }

    /// <summary>The first multiple of <paramref name="tick"/> at or after <paramref name="due"/> (both in Stopwatch ticks,
    /// <paramref name="due"/> not negative); saturates at long.MaxValue, which stays "never".</summary>
    internal static long OnTheGrid(long due, long tick)
    {
        var past = due % tick;
        return past == 0 ? due : StopwatchTicks.After(due, tick - past);
    }

    /// <summary>How long the loop may sleep: until the first timer that is not cancelled is due (<paramref name="due"/>;
    /// zero if it already is), or for ever without timers (<see cref="Timeout.InfiniteTimeSpan"/>, due <see cref="long.MaxValue"/>). Drops the
    /// cancelled timers in front, so that a timer cancelled before the loop sleeps never wakes it (an actor's restarted
    /// timer, such as a watchdog, cancels one at every restart). Under the lock.</summary>
    private TimeSpan TimeUntilFirstTimer(out long due)
    {
        while (_timers.TryPeek(out var head, out _) && head.Timer.IsCancelled) _timers.Dequeue();
        if (!_timers.TryPeek(out _, out var key))
        {
            due = long.MaxValue;
            return Timeout.InfiniteTimeSpan;
        }
        due = key.Fires;
        var until = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), key.Fires);
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
