using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Client.Tests;

/// <summary>IsBefore / IsAfter and the commit-wait WaitUntilAfterAsync, on the real clocks.</summary>
public sealed class CommitWaitSpecs : IDisposable
{
    /// <summary>A bound so wide that no scheduling delay of the test host can move a timestamp across it.</summary>
    private const long WideBound = 10_000_000_000;

    private readonly Segments _segments = new();

    public void Dispose() => _segments.Dispose();

    private static long RealtimeNs() => Clocks.Realtime().TotalNanoseconds;

    [Fact]
    public void IsBefore_and_IsAfter_must_be_false_inside_the_uncertainty_interval()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: WideBound));
        using var client = _segments.Open();
        long t = RealtimeNs();
        Assert.False(client.IsBefore(t));
        Assert.False(client.IsAfter(t));
        Assert.False(client.IsBefore(t - WideBound / 2));
        Assert.False(client.IsAfter(t + WideBound / 2));
    }

    [Fact]
    public void IsBefore_must_be_true_for_a_timestamp_older_than_the_earliest_possible_time()
    {
        _segments.Write(Segments.Fresh(ClockStatus.FreeRunning, boundNs: WideBound));
        using var client = _segments.Open();
        long t = RealtimeNs() - 2 * WideBound;
        Assert.True(client.IsBefore(t));
        Assert.False(client.IsAfter(t));
    }

    [Fact]
    public void IsAfter_must_be_true_for_a_timestamp_beyond_the_latest_possible_time()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: WideBound));
        using var client = _segments.Open();
        long t = RealtimeNs() + 2 * WideBound;
        Assert.True(client.IsAfter(t));
        Assert.False(client.IsBefore(t));
    }

    // The exact edges, on a controllable clock: monotonic time at as_of (the bound is exactly EdgeBound) and a fixed
    // realtime, so that earliest and latest are known to the nanosecond.
    private const long EdgeBound = 1_000;
    private static readonly Timespec EdgeAsOf = new(1_000, 0);
    private static readonly Timespec EdgeRealtime = new(1_700_000_000, 0);
    private static long EdgeEarliest => EdgeRealtime.TotalNanoseconds - EdgeBound;
    private static long EdgeLatest => EdgeRealtime.TotalNanoseconds + EdgeBound;

    private ClockBoundClient OpenAtEdge(Func<(Timespec, Timespec)>? clocks = null)
    {
        _segments.Write(new ClockErrorBound(EdgeAsOf, EdgeAsOf.AddSeconds(3600), EdgeBound, 0, 15_000, ClockStatus.Synchronized, false));
        return ClockBoundClient.OpenWithClocks(_segments.ShmPath, _segments.VmClockPath, clocks ?? (() => (EdgeRealtime, EdgeAsOf)));
    }

    [Fact]
    public void IsBefore_must_be_true_only_strictly_before_the_earliest_possible_time()
    {
        using var client = OpenAtEdge();
        Assert.True(client.IsBefore(EdgeEarliest - 1));
        Assert.False(client.IsBefore(EdgeEarliest)); // the earliest possible time itself may be now
    }

    [Fact]
    public void IsAfter_must_be_true_only_strictly_after_the_latest_possible_time()
    {
        using var client = OpenAtEdge();
        Assert.True(client.IsAfter(EdgeLatest + 1));
        Assert.False(client.IsAfter(EdgeLatest)); // the latest possible time itself may be now
    }

    [Fact]
    public async Task WaitUntilAfterAsync_must_not_complete_while_the_earliest_possible_time_equals_the_timestamp()
    {
        // The first reads put the earliest possible time exactly at the timestamp; from the fourth on, 1 ns past it.
        const int ReadsAtTheTimestamp = 3;
        int reads = 0;
        using var client = OpenAtEdge(() =>
        {
            int n = Interlocked.Increment(ref reads);
            return (n <= ReadsAtTheTimestamp ? EdgeRealtime : EdgeRealtime.AddNanoseconds(1), EdgeAsOf);
        });

        await client.WaitUntilAfterAsync(EdgeEarliest).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ReadsAtTheTimestamp + 1, Volatile.Read(ref reads));
    }

    [Fact]
    public void A_DateTimeOffset_must_stand_for_its_whole_100ns_tick()
    {
        var tick = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000).AddTicks(5);
        Assert.Equal(1_700_000_000_000_000_500, ClockBoundClient.FirstNanosecondOf(tick)); // what IsAfter compares
        Assert.Equal(1_700_000_000_000_000_599, ClockBoundClient.LastNanosecondOf(tick));  // what IsBefore and the wait compare
    }

    [Fact]
    public void IsBefore_and_IsAfter_must_accept_DateTimeOffsets()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: WideBound));
        using var client = _segments.Open();
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Assert.True(client.IsBefore(now.AddSeconds(-20)));
        Assert.False(client.IsAfter(now.AddSeconds(-20)));
        Assert.False(client.IsBefore(now));
        Assert.False(client.IsAfter(now));
        Assert.True(client.IsAfter(now.AddSeconds(20)));
        Assert.False(client.IsBefore(now.AddSeconds(20)));
    }

    [Theory]
    [InlineData(ClockStatus.Unknown)]
    [InlineData(ClockStatus.Disrupted)]
    public void IsBefore_and_IsAfter_must_refuse_an_unusable_clock(ClockStatus status)
    {
        _segments.Write(Segments.Fresh(status));
        using var client = _segments.Open();
        Assert.Equal(status, Assert.Throws<ClockNotUsableException>(() => client.IsBefore(0)).Status);
        Assert.Equal(status, Assert.Throws<ClockNotUsableException>(() => client.IsAfter(long.MaxValue)).Status);
    }

    [Fact]
    public async Task WaitUntilAfter_must_return_only_once_the_earliest_possible_time_has_passed_the_timestamp()
    {
        const long bound = 20_000_000; // 20 ms: a real wait, partly slept, partly yielded
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: bound, ppb: 0));
        using var client = _segments.Open();
        long timestamp = RealtimeNs();
        Assert.False(client.IsBefore(timestamp));

        await client.WaitUntilAfterAsync(timestamp);

        Assert.True(client.IsBefore(timestamp));
        Assert.True(client.Now().EarliestNanoseconds > timestamp);
        Assert.True(RealtimeNs() - bound > timestamp);
    }

    [Fact]
    public async Task WaitUntilAfter_a_DateTimeOffset_must_wait_past_the_whole_tick()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: 3_000_000, ppb: 0));
        using var client = _segments.Open();
        DateTimeOffset timestamp = DateTimeOffset.UtcNow;

        await client.WaitUntilAfterAsync(timestamp);

        long tickEndNs = (timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks + 1) * 100;
        Assert.True(client.Now().EarliestNanoseconds >= tickEndNs);
        Assert.True(client.Now().Earliest > timestamp);
    }

    [Fact]
    public async Task WaitUntilAfter_must_return_at_once_for_a_timestamp_already_in_the_past()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: 1_000));
        using var client = _segments.Open();
        Task wait = client.WaitUntilAfterAsync(RealtimeNs() - WideBound);
        Assert.True(wait.IsCompletedSuccessfully);
        await wait;
    }

    [Theory]
    [InlineData(ClockStatus.Unknown)]
    [InlineData(ClockStatus.Disrupted)]
    public async Task WaitUntilAfter_must_fail_fast_on_an_unusable_clock(ClockStatus status)
    {
        _segments.Write(Segments.Fresh(status, boundNs: 1_000));
        using var client = _segments.Open();
        // Even a timestamp already in the past proves nothing on such a clock.
        var e = await Assert.ThrowsAsync<ClockNotUsableException>(() => client.WaitUntilAfterAsync(RealtimeNs() - WideBound));
        Assert.Equal(status, e.Status);
        Assert.Contains(status.ToString(), e.Message);
    }

    [Fact]
    public async Task WaitUntilAfter_must_fail_when_the_clock_becomes_disrupted_while_waiting()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: 1_000));
        using var client = _segments.Open();
        Task wait = client.WaitUntilAfterAsync(RealtimeNs() + 3600 * 1_000_000_000L);
        Assert.False(wait.IsCompleted);

        _segments.Write(Segments.Fresh(ClockStatus.Disrupted, boundNs: 1_000));

        var e = await Assert.ThrowsAsync<ClockNotUsableException>(() => wait);
        Assert.Equal(ClockStatus.Disrupted, e.Status);
    }

    [Fact]
    public async Task WaitUntilAfter_must_stop_when_cancelled()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: 1_000));
        using var client = _segments.Open();
        using var cancellation = new CancellationTokenSource();
        Task wait = client.WaitUntilAfterAsync(RealtimeNs() + 3600 * 1_000_000_000L, cancellation.Token);
        Assert.False(wait.IsCompleted);

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
    }

    [Fact]
    public async Task WaitUntilAfter_must_not_start_with_a_cancelled_token()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: 1_000));
        using var client = _segments.Open();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.WaitUntilAfterAsync(0, new CancellationToken(canceled: true)));
    }
}
