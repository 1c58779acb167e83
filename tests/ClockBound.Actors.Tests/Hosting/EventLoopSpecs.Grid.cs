using System.Collections.Concurrent;
using System.Diagnostics;
using ClockBound.Actors.Hosting;
using ClockBound.Io;

namespace ClockBound.Actors.Tests.Hosting;

/// <summary>
/// Specifies the tick grid of <see cref="EventLoop"/>: a timer due at t runs at the first multiple of the tick (on the
/// Stopwatch clock, absolute) at or after t, never before; timers that land on the same grid point run in the order
/// they were scheduled, whatever their due times; a repeated timer whose interval is no multiple of the tick keeps its
/// nominal rate (each run is due one interval after the previous due time, not after the grid point it ran at).
/// </summary>
public sealed partial class EventLoopSpecs
{
    [Theory]
    [InlineData(1_000L, 100L, 1_000L)] // already on the grid
    [InlineData(1_001L, 100L, 1_100L)] // just after a grid point: the next one
    [InlineData(999L, 100L, 1_000L)] // just before a grid point
    [InlineData(0L, 100L, 0L)]
    [InlineData(12_345L, 1L, 12_345L)] // tick 1: no grid
    [InlineData(long.MaxValue, 1L, long.MaxValue)]
    [InlineData(10_000_001L, 10_000_000L, 20_000_000L)] // a 10 ms tick in nanoseconds, Linux's Stopwatch unit
    [InlineData(9_223_372_036_854_774_001L, 1_000L, 9_223_372_036_854_775_000L)] // the last grid point below long.MaxValue
    [InlineData(9_223_372_036_854_775_001L, 1_000L, long.MaxValue)] // past it: saturates ("never"), never wraps
    [InlineData(long.MaxValue, 1_000L, long.MaxValue)]
    [InlineData(long.MaxValue - 1, 10_000_000L, long.MaxValue)]
    public void OnTheGrid_must_round_up_to_a_multiple_of_the_tick_and_saturate_at_never(long due, long tick, long expected)
    {
        var fires = EventLoop.OnTheGrid(due, tick);

        Assert.Equal(expected, fires);
        Assert.True(fires >= due, $"due {due} was moved back to {fires}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(50)]
    [InlineData(70)]
    public async Task A_timer_on_a_grid_must_never_run_before_its_due_time_rounded_up_onto_the_grid(int milliseconds)
    {
        var tick = TimeSpan.FromMilliseconds(50);
        using var loop = new EventLoop(LoopName, _timerFailures.Enqueue, tick);
        var delay = TimeSpan.FromMilliseconds(milliseconds);
        var ranAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);

        var scheduledAt = Stopwatch.GetTimestamp();
        loop.Schedule(delay, Timer(() => ranAt.SetResult(Stopwatch.GetTimestamp())));

        var ran = await Completes(ranAt.Task, "the timer");
        // The loop reads the time after scheduledAt: the timer is due at or after scheduledAt + delay.
        var earliest = RoundUpToGrid(scheduledAt + StopwatchTicks.From(delay), StopwatchTicks.From(tick));
        Assert.True(ran >= earliest,
            $"a {delay.TotalMilliseconds} ms timer on a {tick.TotalMilliseconds} ms grid ran {Milliseconds(earliest - ran)} ms before the grid point");
    }

    [Fact]
    public async Task Timers_due_within_one_grid_interval_must_run_at_its_end_in_the_order_they_were_scheduled()
    {
        var tick = TimeSpan.FromSeconds(1);
        var tickTicks = StopwatchTicks.From(tick);
        using var loop = new EventLoop(LoopName, _timerFailures.Enqueue, tick);
        var ran = new ConcurrentQueue<(string Timer, long At)>();
        var bothRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Ran(string timer)
        {
            ran.Enqueue((timer, Stopwatch.GetTimestamp()));
            if (ran.Count == 2) bothRan.SetResult();
        }

        // Both due strictly inside the interval that ends at gridPoint: 0.3 and 0.6 of a tick into it, with 0.4 of a tick
        // (400 ms) to spare for the time the scheduling itself takes. The grid point is at least 0.8 of a tick away, so both
        // due times are still ahead.
        var now = Stopwatch.GetTimestamp();
        var gridPoint = RoundUpToGrid(now + tickTicks * 8 / 10, tickTicks);
        var laterDelay = Stopwatch.GetElapsedTime(now, gridPoint - tickTicks * 4 / 10);
        var earlierDelay = Stopwatch.GetElapsedTime(now, gridPoint - tickTicks * 7 / 10);

        loop.Schedule(laterDelay, Timer(() => Ran("due later, scheduled first")));
        var laterScheduled = Stopwatch.GetTimestamp();
        loop.Schedule(earlierDelay, Timer(() => Ran("due earlier, scheduled second")));
        Assert.True(laterScheduled + StopwatchTicks.From(laterDelay) < gridPoint,
            "scheduling took more than 400 ms: the later timer may be due after the grid point, the test proves nothing");

        await Completes(bothRan.Task, "both timers");
        Assert.Equal(["due later, scheduled first", "due earlier, scheduled second"], ran.Select(r => r.Timer));
        Assert.All(ran, r => Assert.True(r.At >= gridPoint,
            $"{r.Timer} ran {Milliseconds(gridPoint - r.At)} ms before the grid point both are due on"));
    }

    [Fact]
    public async Task A_repeated_timer_whose_interval_is_no_multiple_of_the_tick_must_keep_its_nominal_rate()
    {
        const int Runs = 24;
        var tick = TimeSpan.FromMilliseconds(50);
        var interval = TimeSpan.FromMilliseconds(75);
        // What each run would wait if the next one were due an interval after the grid point the last one ran at.
        var roundedInterval = TimeSpan.FromMilliseconds(100);
        var tickTicks = StopwatchTicks.From(tick);
        using var loop = new EventLoop(LoopName, _timerFailures.Enqueue, tick);
        var cancelable = new TestCancelable();
        var runTimes = new List<long>(); // only touched on the loop
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var start = Stopwatch.GetTimestamp();
        loop.Schedule(interval, Timer(() =>
        {
            runTimes.Add(Stopwatch.GetTimestamp());
            if (runTimes.Count < Runs) return;
            cancelable.Cancel();
            done.SetResult();
        }, cancelable, interval));

        await Completes(done.Task, $"{Runs} runs of the repeated timer");
        // Never early: run n is due at or after start + n intervals (later only after a stall), rounded up onto the grid.
        for (var run = 1; run <= Runs; run++)
        {
            var earliest = RoundUpToGrid(start + StopwatchTicks.From(interval * run), tickTicks);
            Assert.True(runTimes[run - 1] >= earliest, $"run {run} came {Milliseconds(earliest - runTimes[run - 1])} ms before its grid point");
        }
        // The rate: with every interval rounded up onto the grid the runs would be at least 100 ms apart from the first
        // one's grid point on, so no more runs could fit between there and the last run than this. At 75 ms the timer
        // fits a third more (24 runs in about 1.75 s, where 100 ms apart need 2.3 s): a slow machine may lose half a second.
        var firstGridPoint = RoundUpToGrid(start + StopwatchTicks.From(interval), tickTicks);
        var runsAtRoundedRate = 1 + (runTimes[^1] - firstGridPoint) / StopwatchTicks.From(roundedInterval);
        Assert.True(Runs > runsAtRoundedRate,
            $"{Runs} runs of a {interval.TotalMilliseconds} ms timer on a {tick.TotalMilliseconds} ms grid took " +
            $"{Milliseconds(runTimes[^1] - firstGridPoint)} ms after the first grid point: room for {runsAtRoundedRate} runs " +
            $"{roundedInterval.TotalMilliseconds} ms apart, so the timer ran at the rounded interval, not its own");
    }

    [Fact]
    public async Task A_repeated_run_whose_due_time_passed_before_its_grid_point_must_still_fire_on_that_grid_point()
    {
        // The first run is due 2 ms after a grid point, so it fires on the next one, and takes 20 ms: when it ends, the
        // second run's due time (2 ms after the grid point the loop is on) has passed, but the grid point it fires on is
        // still ahead and the loop is not late. The second run must fire on that grid point, not be taken for missed and
        // pushed an interval on. A timer scheduled afterwards for the same grid point shows which: the loop runs timers
        // on one grid point in the order they were scheduled.
        var tick = TimeSpan.FromMilliseconds(200);
        var tickTicks = StopwatchTicks.From(tick);
        var twoMilliseconds = StopwatchTicks.From(TimeSpan.FromMilliseconds(2));
        using var loop = new EventLoop(LoopName, _timerFailures.Enqueue, tick);
        var cancelable = new TestCancelable();
        var ran = new ConcurrentQueue<(string Timer, long At)>();
        var allRan = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Ran(string timer)
        {
            ran.Enqueue((timer, Stopwatch.GetTimestamp()));
            if (ran.Count == 3) allRan.SetResult();
        }

        var now = Stopwatch.GetTimestamp();
        var firstDue = RoundUpToGrid(now + tickTicks / 5, tickTicks) + twoMilliseconds;
        var secondGridPoint = firstDue - twoMilliseconds + 2 * tickTicks;
        var runs = 0;
        loop.Schedule(Stopwatch.GetElapsedTime(now, firstDue), Timer(() =>
        {
            Ran($"run {++runs}");
            if (runs == 2)
            {
                cancelable.Cancel();
                return;
            }
            Thread.Sleep(TimeSpan.FromMilliseconds(20)); // the work the loop is busy with, not synchronisation
            // Work queued by a timer runs after the due timers are rescheduled: the marker is scheduled after run 2.
            loop.Execute(Work(() => loop.Schedule(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), secondGridPoint - twoMilliseconds),
                Timer(() => Ran("a timer scheduled after run 2 for its grid point")))));
        }, cancelable, tick));

        await Completes(allRan.Task, "both runs and the timer scheduled after them");
        Assert.Equal(["run 1", "run 2", "a timer scheduled after run 2 for its grid point"], ran.Select(r => r.Timer));
        Assert.All(ran.Skip(1), r => Assert.True(r.At >= secondGridPoint,
            $"{r.Timer} ran {Milliseconds(secondGridPoint - r.At)} ms before its grid point"));
    }

    [Fact]
    public async Task A_timer_with_the_longest_delay_on_a_grid_must_not_run_before_one_due_sooner()
    {
        // Rounding a due time near long.MaxValue up onto the grid must saturate, not wrap around into the past.
        using var loop = new EventLoop(LoopName, _timerFailures.Enqueue, TimeSpan.FromMilliseconds(10));
        var ran = new ConcurrentQueue<string>();
        var sooner = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        loop.Schedule(TimeSpan.MaxValue, Timer(() => ran.Enqueue("longest")));
        loop.Schedule(TimeSpan.FromMilliseconds(20), Timer(() =>
        {
            ran.Enqueue("sooner");
            sooner.SetResult();
        }));

        await Completes(sooner.Task, "the timer due sooner");
        Assert.Equal(["sooner"], ran);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(50)]
    [InlineData(1_000)]
    public void Tick_must_report_the_configured_grid(int milliseconds)
    {
        using var loop = new EventLoop(LoopName, _timerFailures.Enqueue, TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), loop.Tick);
    }

    public static TheoryData<TimeSpan?> NoGrid => new() { null, TimeSpan.Zero, TimeSpan.FromMilliseconds(-10) };

    [Theory]
    [MemberData(nameof(NoGrid))]
    public void Tick_must_be_one_Stopwatch_tick_without_a_grid(TimeSpan? tick)
    {
        using var loop = new EventLoop(LoopName, _timerFailures.Enqueue, tick);

        Assert.Equal(Stopwatch.GetElapsedTime(0, 1), loop.Tick);
        Assert.True(loop.Tick < TimeSpan.FromMicroseconds(1), $"a loop without a grid reports a tick of {loop.Tick}");
    }

    /// <summary>The first multiple of <paramref name="tick"/> at or after <paramref name="timestamp"/> (a Stopwatch
    /// timestamp, far from long.MaxValue), worked out here rather than by the loop.</summary>
    private static long RoundUpToGrid(long timestamp, long tick) => (timestamp + tick - 1) / tick * tick;

    private static string Milliseconds(long stopwatchTicks) =>
        Stopwatch.GetElapsedTime(0, stopwatchTicks).TotalMilliseconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
}
