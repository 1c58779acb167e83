using System.Diagnostics;
using System.Runtime.InteropServices;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests;

/// <summary>
/// Specifies <see cref="WakeEvent"/>: an auto-reset event for one waiting thread on a bare futex. A set is never lost
/// (whether it comes before the wait or while the waiter sleeps in the kernel), one set releases one wait, and a wait
/// that times out never returns before its timeout.
/// </summary>
public sealed class WakeEventSpecs
{
    /// <summary>Only bounds a wait for something that must happen; a slow machine never reaches it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);

    /// <summary>Interrupts a timed futex wait (EINTR) once a handler is installed; ignored by default, so a late one is harmless.</summary>
    private const int SIGURG = 23;

    [Fact]
    public async Task Wait_must_return_true_at_once_when_the_event_was_set_before()
    {
        var wake = new WakeEvent();
        wake.Set();

        // An infinite wait would hang (and the test time out) if the set were lost.
        var waited = Task.Run(() => wake.Wait(Timeout.InfiniteTimeSpan));

        Assert.True(await waited.WaitAsync(Patience)); // a TimeoutException: Wait did not see the earlier Set
    }

    [Fact]
    public void Wait_must_reset_the_event_so_that_two_sets_release_only_one_wait()
    {
        var wake = new WakeEvent();
        wake.Set();
        wake.Set();

        Assert.True(wake.Wait(Short));
        Assert.False(wake.Wait(Short));
    }

    [Fact]
    public void Wait_must_return_false_for_an_unset_event_and_zero_timeout()
    {
        var wake = new WakeEvent();

        Assert.False(wake.Wait(TimeSpan.Zero));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(100)]
    public void Wait_must_time_out_never_before_its_timeout(int milliseconds)
    {
        var wake = new WakeEvent();
        var timeout = TimeSpan.FromMilliseconds(milliseconds);

        var clock = Stopwatch.StartNew();
        var set = wake.Wait(timeout);
        var elapsed = clock.Elapsed;

        Assert.False(set);
        Assert.True(elapsed >= timeout, $"Wait({timeout}) returned after {elapsed}");
    }

    [Theory]
    [InlineData(-1)] // Timeout.InfiniteTimeSpan
    [InlineData(3_600_000)] // one hour
    public async Task Set_must_wake_a_thread_asleep_in_a_wait(int timeoutMilliseconds)
    {
        var wake = new WakeEvent();

        var (waiter, waited) = await StartWaiter(() => wake.Wait(TimeSpan.FromMilliseconds(timeoutMilliseconds)));

        // Set only once the waiter sleeps in the kernel: the wake must come through FUTEX_WAKE, not the fast path.
        waiter.WaitUntilAsleep(Patience);
        Assert.False(waited.IsCompleted, "a wait on an unset event returned before its timeout");
        wake.Set();

        Assert.True(await waited.WaitAsync(Patience)); // a TimeoutException: the Set was lost, the waiter still sleeps
    }

    [Theory]
    [InlineData(-1)] // Timeout.InfiniteTimeSpan
    [InlineData(3_600_000)]
    [InlineData(long.MaxValue)] // TimeSpan.MaxValue: more Stopwatch ticks than fit in a long after now
    public async Task Wait_must_not_return_when_a_signal_interrupts_its_sleep(long milliseconds)
    {
        var timeout = milliseconds == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(milliseconds);
        using var handled = new HandledSignals();
        var wake = new WakeEvent();
        var (waiter, waited) = await StartWaiter(() => wake.Wait(timeout));

        for (var signal = 1; signal <= 3; signal++)
        {
            Assert.True(waiter.WaitUntilAsleepUnless(() => waited.IsCompleted, Patience), $"Wait({timeout}) returned");
            waiter.Signal(SIGURG);
            // The runtime's handler ran on the waiter, interrupting its sleep, and passed the signal on to this one.
            Assert.True(await handled.NextAsync(), $"signal {signal} did not reach its handler");
        }
        Assert.True(waiter.WaitUntilAsleepUnless(() => waited.IsCompleted, Patience), $"Wait({timeout}) returned after a signal");

        wake.Set();
        Assert.True(await waited.WaitAsync(Patience));
    }

    [Fact]
    public async Task Wait_interrupted_by_signals_must_time_out_never_before_its_timeout()
    {
        var timeout = TimeSpan.FromSeconds(2);
        using var handled = new HandledSignals();
        var wake = new WakeEvent();
        var clock = Stopwatch.StartNew();
        var (waiter, waited) = await StartWaiter(() => (Set: wake.Wait(timeout), Elapsed: clock.Elapsed));

        for (var i = 0; i < 2; i++)
        {
            waiter.WaitUntilAsleep(Patience);
            waiter.Signal(SIGURG);
            Assert.True(await handled.NextAsync(), $"signal {i} did not reach its handler");
        }

        var (set, elapsed) = await waited.WaitAsync(Patience + timeout);
        Assert.False(set);
        Assert.True(elapsed >= timeout, $"Wait({timeout}) interrupted by signals returned after {elapsed}");
    }

    [Fact]
    public async Task Sets_must_never_be_lost_between_two_threads_playing_ping_pong()
    {
        // Each side sets the other's event and waits on its own: a lost wake-up shows as a wait that times out.
        const int RoundTrips = 100_000;
        var ping = new WakeEvent();
        var pong = new WakeEvent();
        var timeout = TimeSpan.FromSeconds(10);

        var ponger = Task.Factory.StartNew(() =>
        {
            for (var i = 0; i < RoundTrips; i++)
            {
                if (!ping.Wait(timeout)) return i;
                pong.Set();
            }
            return RoundTrips;
        }, TaskCreationOptions.LongRunning);

        var returned = 0;
        for (; returned < RoundTrips; returned++)
        {
            ping.Set();
            if (!pong.Wait(timeout)) break;
        }

        Assert.Equal(RoundTrips, await ponger.WaitAsync(Patience + timeout));
        Assert.Equal(RoundTrips, returned);
    }

    /// <summary>Runs <paramref name="wait"/> on a thread of its own; returns that thread as the kernel sees it (to wait
    /// until it sleeps, or to signal it) and the wait's outcome.</summary>
    private static async Task<(OsThread Waiter, Task<T> Waited)> StartWaiter<T>(Func<T> wait)
    {
        var waiterThread = new TaskCompletionSource<OsThread>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waited = Task.Factory.StartNew(() =>
        {
            waiterThread.SetResult(OsThread.Current());
            return wait();
        }, TaskCreationOptions.LongRunning);
        return (await waiterThread.Task.WaitAsync(Patience), waited);
    }

    /// <summary>A handler of SIGURG for the test's lifetime that only counts the signals it handles.</summary>
    private sealed class HandledSignals : IDisposable
    {
        private readonly SemaphoreSlim _handled = new(0);
        private readonly PosixSignalRegistration _registration;

        public HandledSignals() => _registration = PosixSignalRegistration.Create((PosixSignal)SIGURG, context =>
        {
            context.Cancel = true;
            _handled.Release();
        });

        /// <summary>True once the next signal has been handled; false if none is within <see cref="Patience"/>.</summary>
        public Task<bool> NextAsync() => _handled.WaitAsync(Patience);

        public void Dispose()
        {
            _registration.Dispose();
            _handled.Dispose();
        }
    }
}
