using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Dispatch;
using ClockBound.Actors.Hosting;
using ClockBound.Io;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.Hosting;

/// <summary>
/// Specifies <see cref="EventLoop"/>: one thread runs queued work in order and timers in due order, never before they are
/// due; whatever is queued or scheduled wakes it when it must (even while it sleeps until a later timer); cancelled timers
/// never run; a failing timer is reported and the loop goes on; <see cref="EventLoop.Dispose"/> stops the thread.
/// </summary>
public sealed class EventLoopSpecs : IDisposable
{
    /// <summary>Only bounds a wait for something that must happen; a slow machine never reaches it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private const string LoopName = "test-loop";

    private readonly ConcurrentQueue<Exception> _timerFailures = new();
    private readonly EventLoop _loop;

    public EventLoopSpecs() => _loop = new EventLoop(LoopName, _timerFailures.Enqueue);

    public void Dispose() => _loop.Dispose();

    [Fact]
    public async Task Execute_must_run_work_in_order_on_one_thread_that_is_not_the_callers()
    {
        const int Items = 1_000;
        var ran = new List<(int Item, int Thread, string? Name)>(); // only touched on the loop
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        for (var i = 0; i < Items; i++)
        {
            var item = i;
            _loop.Execute(Work(() =>
            {
                ran.Add((item, Environment.CurrentManagedThreadId, Thread.CurrentThread.Name));
                if (item == Items - 1) done.SetResult();
            }));
        }

        await Completes(done.Task, "the last work item");
        Assert.Equal(Enumerable.Range(0, Items), ran.Select(r => r.Item));
        var loopThread = Assert.Single(ran.Select(r => r.Thread).Distinct());
        Assert.NotEqual(Environment.CurrentManagedThreadId, loopThread);
        Assert.All(ran, r => Assert.Equal(LoopName, r.Name));
    }

    [Fact]
    public async Task Execute_must_wake_the_loop_asleep_without_timers()
    {
        var loopThread = await OnLoop(OsThread.Current);
        loopThread.WaitUntilAsleep(Patience);

        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Execute(Work(ran.SetResult));

        await Completes(ran.Task, "work queued while the loop slept");
    }

    [Fact]
    public async Task Timers_must_fire_in_due_order_on_the_loop_thread_even_when_scheduled_in_reverse()
    {
        var loopThread = await OnLoop(() => Environment.CurrentManagedThreadId);
        int[] delays = [250, 200, 150, 100, 50];
        var fired = new ConcurrentQueue<(int Delay, int Thread)>();
        using var allFired = new CountdownEvent(delays.Length);

        foreach (var delay in delays)
        {
            _loop.Schedule(TimeSpan.FromMilliseconds(delay), Timer(() =>
            {
                fired.Enqueue((delay, Environment.CurrentManagedThreadId));
                allFired.Signal();
            }));
        }

        Assert.True(allFired.Wait(Patience), $"only {fired.Count} of {delays.Length} timers fired");
        Assert.Equal(delays.Order(), fired.Select(f => f.Delay));
        Assert.All(fired, f => Assert.Equal(loopThread, f.Thread));
    }

    [Fact]
    public void Timers_with_the_same_delay_must_fire_in_the_order_they_were_scheduled()
    {
        const int Timers = 200;
        var fired = new ConcurrentQueue<int>();
        using var allFired = new CountdownEvent(Timers);

        for (var i = 0; i < Timers; i++)
        {
            var timer = i;
            _loop.Schedule(TimeSpan.FromMilliseconds(20), Timer(() =>
            {
                fired.Enqueue(timer);
                allFired.Signal();
            }));
        }

        Assert.True(allFired.Wait(Patience), $"only {fired.Count} of {Timers} timers fired");
        Assert.Equal(Enumerable.Range(0, Timers), fired);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(50)]
    public async Task A_timer_must_never_fire_before_its_delay(int milliseconds)
    {
        var delay = TimeSpan.FromMilliseconds(milliseconds);
        var firedAfter = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);

        var clock = Stopwatch.StartNew();
        _loop.Schedule(delay, Timer(() => firedAfter.SetResult(clock.Elapsed)));

        var elapsed = await Completes(firedAfter.Task, "the timer");
        Assert.True(elapsed >= delay, $"a timer of {delay} fired after {elapsed}");
    }

    [Fact]
    public async Task A_timer_with_the_longest_delay_must_not_fire_before_one_due_sooner()
    {
        // TimeSpan.MaxValue is more Stopwatch ticks than fit in a long after now: the due time must not wrap around.
        var fired = new ConcurrentQueue<string>();
        var sooner = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        _loop.Schedule(TimeSpan.MaxValue, Timer(() => fired.Enqueue("longest")));
        _loop.Schedule(TimeSpan.FromMilliseconds(20), Timer(() =>
        {
            fired.Enqueue("sooner");
            sooner.SetResult();
        }));

        await Completes(sooner.Task, "the timer due sooner");
        Assert.Equal(["sooner"], fired);
    }

    [Fact]
    public async Task A_repeated_timer_with_the_longest_interval_must_run_once_before_a_timer_due_later()
    {
        // Its second run is due after TimeSpan.MaxValue: the due time must not wrap around into the past.
        var runs = 0;
        var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        _loop.Schedule(TimeSpan.FromMilliseconds(10), Timer(() => runs++, new TestCancelable(), TimeSpan.MaxValue));
        _loop.Schedule(TimeSpan.FromMilliseconds(50), Timer(later.SetResult));

        await Completes(later.Task, "the timer due later");
        Assert.Equal(1, Volatile.Read(ref runs));
    }

    [Fact]
    public async Task A_timer_due_before_the_one_the_loop_sleeps_for_must_wake_it()
    {
        _loop.Schedule(TimeSpan.FromHours(1), Timer(() => { }));
        var loopThread = await OnLoop(OsThread.Current);
        loopThread.WaitUntilAsleep(Patience); // now asleep until the timer an hour away

        var delay = TimeSpan.FromMilliseconds(50);
        var firedAfter = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        _loop.Schedule(delay, Timer(() => firedAfter.SetResult(clock.Elapsed)));

        var elapsed = await Completes(firedAfter.Task, "a timer due before the one the loop slept for (the loop was not woken)");
        Assert.True(elapsed >= delay, $"a timer of {delay} fired after {elapsed}");
    }

    [Fact]
    public async Task A_cancelled_timer_must_never_run()
    {
        var cancelledRuns = 0;
        var loopThread = await OnLoop(OsThread.Current);

        // Cancelled before it is scheduled.
        var early = new TestCancelable();
        early.Cancel();
        _loop.Schedule(TimeSpan.FromMilliseconds(50), Timer(() => Interlocked.Increment(ref cancelledRuns), early));

        // Cancelled while the loop sleeps until it is due (a second is far more than the loop needs to fall asleep).
        var late = new TestCancelable();
        _loop.Schedule(TimeSpan.FromSeconds(1), Timer(() => Interlocked.Increment(ref cancelledRuns), late));
        loopThread.WaitUntilAsleep(Patience);
        late.Cancel();

        // Timers fire in due order: once this one has, the cancelled ones would have too.
        var after = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Schedule(TimeSpan.FromSeconds(1.1), Timer(after.SetResult));

        await Completes(after.Task, "the timer due after the cancelled ones");
        Assert.Equal(0, Volatile.Read(ref cancelledRuns));
    }

    [Fact]
    public async Task A_repeated_timer_must_keep_its_rate_and_stop_once_cancelled_by_its_own_run()
    {
        const int Runs = 10;
        var initialDelay = TimeSpan.FromMilliseconds(10);
        var interval = TimeSpan.FromMilliseconds(20);
        var cancelable = new TestCancelable();
        var runTimes = new List<TimeSpan>(); // only touched on the loop
        var after = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();

        _loop.Schedule(initialDelay, Timer(() =>
        {
            runTimes.Add(clock.Elapsed);
            if (runTimes.Count < Runs) return;
            cancelable.Cancel();
            // Due after the run that would follow this one, had the cancellation not stopped the timer.
            _loop.Schedule(interval * 3, Timer(after.SetResult));
        }, cancelable, interval));

        await Completes(after.Task, "the timer due after the repeated one's runs");
        Assert.Equal(Runs, runTimes.Count);
        for (var run = 0; run < Runs; run++)
        {
            var due = initialDelay + interval * run;
            Assert.True(runTimes[run] >= due, $"run {run} at {runTimes[run]}, before it was due at {due}");
        }
        // Due times follow from the first one, so lateness does not add up: the runs span their intervals plus at most
        // one run's lateness, generous on a loaded 2-core machine (half an interval per run in all) and short of the
        // span at half the rate (twice as long).
        var span = runTimes[^1] - runTimes[0];
        var longest = interval * (Runs - 1) * 1.5;
        Assert.True(span <= longest, $"{Runs} runs spanned {span}, more than {longest}");
    }

    [Fact]
    public async Task A_repeated_timer_must_stop_once_cancelled_from_another_thread()
    {
        var interval = TimeSpan.FromMilliseconds(10);
        var cancelable = new TestCancelable();
        var runs = 0;
        using var threeRuns = new CountdownEvent(3);

        _loop.Schedule(interval, Timer(() =>
        {
            Interlocked.Increment(ref runs);
            if (!threeRuns.IsSet) threeRuns.Signal();
        }, cancelable, interval));

        Assert.True(threeRuns.Wait(Patience), $"the repeated timer ran {Volatile.Read(ref runs)} times, not 3");
        cancelable.Cancel();
        var runsAtCancel = Volatile.Read(ref runs);

        var after = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Schedule(interval * 10, Timer(after.SetResult));

        await Completes(after.Task, "the timer due ten intervals after the cancellation");
        // A run that had passed its cancellation check when Cancel returned may still finish; none may start after.
        Assert.InRange(Volatile.Read(ref runs), runsAtCancel, runsAtCancel + 1);
    }

    [Fact]
    public async Task A_timer_that_throws_must_be_reported_and_later_timers_must_still_run()
    {
        var failure = new InvalidOperationException("timer failed on purpose");
        _loop.Schedule(TimeSpan.FromMilliseconds(10), Timer(() => throw failure));

        var after = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Schedule(TimeSpan.FromMilliseconds(50), Timer(after.SetResult));
        var work = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await Completes(after.Task, "the timer due after the failing one");
        _loop.Execute(Work(work.SetResult));
        await Completes(work.Task, "work queued after the failing timer");
        Assert.Same(failure, Assert.Single(_timerFailures));
    }

    [Fact]
    public async Task Work_and_timers_queued_from_the_loop_itself_must_run()
    {
        var steps = new List<string>(); // only touched on the loop
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        _loop.Execute(Work(() =>
        {
            steps.Add("work");
            _loop.Execute(Work(() =>
            {
                steps.Add("work from work");
                _loop.Schedule(TimeSpan.FromMilliseconds(10), Timer(() =>
                {
                    steps.Add("timer from work");
                    _loop.Schedule(TimeSpan.FromMilliseconds(10), Timer(() =>
                    {
                        steps.Add("timer from timer");
                        _loop.Execute(Work(() =>
                        {
                            steps.Add("work from timer");
                            done.SetResult();
                        }));
                    }));
                }));
            }));
        }));

        await Completes(done.Task, "the last step");
        Assert.Equal(["work", "work from work", "timer from work", "timer from timer", "work from timer"], steps);
    }

    [Fact]
    public async Task Dispose_must_stop_the_thread_and_be_idempotent()
    {
        var loopThread = await OnLoop(OsThread.Current);
        _loop.Schedule(TimeSpan.FromMilliseconds(10), Timer(() => { }));

        _loop.Dispose();

        loopThread.WaitUntilExited(Patience); // nothing can run any more
        var ranAfterDispose = new List<string>();
        var secondDispose = Task.Run(_loop.Dispose);
        await secondDispose.WaitAsync(Patience); // returns (no second stop to wait for), and does not throw
        _loop.Schedule(TimeSpan.Zero, Timer(() => { lock (ranAfterDispose) ranAfterDispose.Add("timer"); })); // ignored
        _loop.Execute(Work(() => { lock (ranAfterDispose) ranAfterDispose.Add("work"); })); // queued, never run

        // Neither ran inline, and no thread was started for them: the loop's thread is the only one that ever runs its
        // work, and it has exited.
        Assert.True(secondDispose.IsCompletedSuccessfully);
        lock (ranAfterDispose) Assert.Empty(ranAfterDispose);
        Assert.True(loopThread.State is null or 'Z' or 'X', $"the loop's thread is in state {loopThread.State}");
    }

    [Fact]
    public async Task Dispose_must_wait_for_the_running_work_and_drop_the_queued_work()
    {
        var loopThread = await OnLoop(OsThread.Current);
        using var release = new ManualResetEventSlim();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = false;
        var queuedRan = false;
        _loop.Execute(Work(() =>
        {
            running.SetResult();
            release.Wait();
            finished = true;
        }));
        _loop.Execute(Work(() => queuedRan = true));
        await Completes(running.Task, "the blocking work");

        var disposer = new TaskCompletionSource<OsThread>(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposed = Task.Factory.StartNew(() =>
        {
            disposer.SetResult(OsThread.Current());
            _loop.Dispose();
        }, TaskCreationOptions.LongRunning);
        (await Completes(disposer.Task, "the disposing thread")).WaitUntilAsleep(Patience); // in Dispose, joining the loop thread
        Assert.False(disposed.IsCompleted, "Dispose returned while the loop was still running work");

        release.Set();

        await Completes(disposed, "Dispose");
        Assert.True(finished);
        loopThread.WaitUntilExited(Patience);
        Assert.False(queuedRan, "work queued behind the running one ran after Dispose");
    }

    [Fact]
    public async Task Dispose_must_stop_the_loop_when_called_on_the_loop_itself()
    {
        var loopThread = await OnLoop(OsThread.Current);
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        _loop.Schedule(TimeSpan.FromMilliseconds(10), Timer(() =>
        {
            _loop.Dispose(); // must not join its own thread
            disposed.SetResult();
        }));

        await Completes(disposed.Task, "Dispose on the loop");
        loopThread.WaitUntilExited(Patience);
    }

    /// <summary>Waits for <paramref name="task"/>; a <see cref="TimeoutException"/> naming <paramref name="what"/> after <see cref="Patience"/>.</summary>
    private static async Task<T> Completes<T>(Task<T> task, string what)
    {
        await Completes((Task)task, what);
        return await task;
    }

    private static async Task Completes(Task task, string what)
    {
        try
        {
            await task.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what} did not complete within {Patience}");
        }
    }

    /// <summary>Runs <paramref name="function"/> on the loop and returns its result.</summary>
    private Task<T> OnLoop<T>(Func<T> function)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Execute(Work(() => result.SetResult(function())));
        return Completes(result.Task, "work on the loop");
    }

    private static IRunnable Work(Action action) => new ActionRunnable(action);

    private static LoopTimer Timer(Action action, ICancelable? cancelable = null, TimeSpan interval = default) =>
        new ActionTimer(action, cancelable) { IntervalTicks = StopwatchTicks.From(interval) };

    private sealed class ActionTimer(Action action, ICancelable? cancelable) : LoopTimer(cancelable)
    {
        public override void Run() => action();
    }

    /// <summary>The part of <see cref="ICancelable"/> a <see cref="LoopTimer"/> looks at, on a <see cref="CancellationTokenSource"/>
    /// (Akka's <see cref="Cancelable"/> needs a scheduler).</summary>
    private sealed class TestCancelable : ICancelable
    {
        private readonly CancellationTokenSource _source = new();

        public bool IsCancellationRequested => _source.IsCancellationRequested;
        public CancellationToken Token => _source.Token;
        public void Cancel() => _source.Cancel();
        public void Cancel(bool throwOnFirstException) => _source.Cancel(throwOnFirstException);
        public void CancelAfter(TimeSpan delay) => _source.CancelAfter(delay);
        public void CancelAfter(int millisecondsDelay) => _source.CancelAfter(millisecondsDelay);
    }
}
