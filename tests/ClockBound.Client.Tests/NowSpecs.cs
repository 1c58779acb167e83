using System.Numerics;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Client.Tests;

/// <summary>Now() at fixed clock readings against segments written by the project's writer.</summary>
public sealed class NowSpecs : IDisposable
{
    private static readonly Timespec AsOf = new(10_000, 500_000_000);
    private static readonly Timespec Realtime = new(1_700_000_000, 250_000_000);
    private const long RealtimeNs = 1_700_000_000_250_000_000;
    private const long Second = 1_000_000_000;

    private readonly Segments _segments = new();

    public void Dispose() => _segments.Dispose();

    private static ClockErrorBound Record(ClockStatus status, long voidAfterSinceAsOf = 60 * Second, long boundNs = 1_000, uint ppb = 0) =>
        new(AsOf, AsOf.AddNanoseconds(voidAfterSinceAsOf), boundNs, 0, ppb, status, false);

    private ClockBoundTime NowAt(in ClockErrorBound record, long monoSinceAsOf)
    {
        _segments.Write(record);
        using var client = _segments.Open();
        return client.NowAt(Realtime, AsOf.AddNanoseconds(monoSinceAsOf));
    }

    [Theory]
    // stored status, mono − as_of (ns), void_after − as_of (ns), expected status (spec step 2)
    [InlineData(ClockStatus.Unknown, 0, 60 * Second, ClockStatus.Unknown)]
    [InlineData(ClockStatus.Unknown, 100 * Second, 60 * Second, ClockStatus.Unknown)]
    [InlineData(ClockStatus.Disrupted, 0, 60 * Second, ClockStatus.Disrupted)]
    [InlineData(ClockStatus.Disrupted, 100 * Second, 60 * Second, ClockStatus.Disrupted)]
    [InlineData(ClockStatus.Synchronized, 0, 60 * Second, ClockStatus.Synchronized)]
    [InlineData(ClockStatus.Synchronized, 5 * Second - 1, 60 * Second, ClockStatus.Synchronized)]
    [InlineData(ClockStatus.Synchronized, 5 * Second, 60 * Second, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.Synchronized, 60 * Second - 1, 60 * Second, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.Synchronized, 60 * Second, 60 * Second, ClockStatus.Unknown)]
    [InlineData(ClockStatus.Synchronized, 3 * Second, 2 * Second, ClockStatus.Synchronized)] // the grace outlasts void_after
    [InlineData(ClockStatus.Synchronized, 5 * Second, 2 * Second, ClockStatus.Unknown)]
    [InlineData(ClockStatus.FreeRunning, 5 * Second - 1, 60 * Second, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.FreeRunning, 5 * Second, 60 * Second, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.FreeRunning, 60 * Second, 60 * Second, ClockStatus.Unknown)]
    [InlineData((ClockStatus)9, 0, 60 * Second, ClockStatus.Unknown)] // undefined value on the wire
    public void Now_must_age_the_stored_status_as_the_spec_says(ClockStatus stored, long monoSinceAsOf, long voidAfterSinceAsOf, ClockStatus expected)
    {
        var now = NowAt(Record(stored, voidAfterSinceAsOf), monoSinceAsOf);
        Assert.Equal(expected, now.Status);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-999)]
    public void Now_must_treat_as_of_less_than_1us_ahead_of_the_clock_as_no_elapsed_time(long monoSinceAsOf)
    {
        var now = NowAt(Record(ClockStatus.Synchronized, boundNs: 5_000, ppb: 500_000), monoSinceAsOf);
        Assert.Equal(5_000, now.BoundNanoseconds);
        Assert.Equal(ClockStatus.Synchronized, now.Status);
    }

    [Theory]
    [InlineData(-1_000)]
    [InlineData(-60 * Second)]
    public void Now_must_report_a_causality_breach_when_as_of_is_1us_or_more_ahead_of_the_clock(long monoSinceAsOf)
    {
        var e = Assert.Throws<ClockBoundException>(() => NowAt(Record(ClockStatus.Synchronized), monoSinceAsOf));
        Assert.Equal(ClockBoundErrorKind.CausalityBreach, e.Kind);
        Assert.Contains(_segments.ShmPath, e.Message);
    }

    [Theory]
    [InlineData(1_000_000_000u)]
    [InlineData(uint.MaxValue)]
    public void Now_must_report_a_drift_of_1e9_ppb_or_more_as_SegmentMalformed(uint ppb)
    {
        var e = Assert.Throws<ClockBoundException>(() => NowAt(Record(ClockStatus.Synchronized, ppb: ppb), 0));
        Assert.Equal(ClockBoundErrorKind.SegmentMalformed, e.Kind);
        Assert.Contains(_segments.ShmPath, e.Message);
    }

    [Theory]
    // bound_nsec, mono − as_of (ns), max_drift_ppb, expected bound = bound_nsec + floor(elapsed × ppb / 1e9)
    [InlineData(1_000, 0, 50_000, 1_000)]
    [InlineData(1_000, Second, 50_000, 51_000)]
    [InlineData(0, 1_500_000_000, 15_000, 22_500)]
    [InlineData(0, Second - 1, 1, 0)]
    [InlineData(0, Second + 1, 1, 1)]
    [InlineData(7, 4 * Second - 1, 250_000_001, 1_000_000_010)]
    public void Now_must_grow_the_bound_by_the_drift_since_as_of(long boundNs, long monoSinceAsOf, uint ppb, long expected)
    {
        var now = NowAt(Record(ClockStatus.Synchronized, voidAfterSinceAsOf: 3600 * Second, boundNs, ppb), monoSinceAsOf);
        Assert.Equal(expected, now.BoundNanoseconds);
        Assert.Equal(RealtimeNs - expected, now.EarliestNanoseconds);
        Assert.Equal(RealtimeNs + expected, now.LatestNanoseconds);
    }

    public static TheoryData<ClockStatus, long, uint, long, long> CompatibilityCases => new()
    {
        // stored status, bound_nsec, max_drift_ppb, mono − as_of (ns), void_after − as_of (ns)
        { ClockStatus.Synchronized, 20_000, 15_000, 123_456_789, 10 * Second },
        { ClockStatus.Synchronized, 1, 1_000_000, 4_999_999_999, 10 * Second },
        { ClockStatus.Synchronized, 250_000, 50_000, 7 * Second + 3, 10 * Second },
        { ClockStatus.Synchronized, 250_000, 50_000, 10 * Second, 10 * Second },
        { ClockStatus.FreeRunning, 3_000_000, 999_999_999, 86_400 * Second + 987_654_321, 90_000 * Second },
        { ClockStatus.FreeRunning, 0, 0, 0, 0 },
        { ClockStatus.Unknown, 5_000, 10, 1, 10 * Second },
        { ClockStatus.Disrupted, 5_000, 10, 100 * Second, 10 * Second },
        { ClockStatus.Synchronized, 9_000, 123_456, -999, 10 * Second },
        { ClockStatus.Synchronized, 9_000, 123_456, -1_000, 10 * Second },
        { ClockStatus.Synchronized, 9_000, 1_000_000_000, 1, 10 * Second },
    };

    [Theory]
    [MemberData(nameof(CompatibilityCases))]
    public void Now_must_match_the_spec_reference_computation_over_the_writers_bytes(
        ClockStatus stored, long boundNs, uint ppb, long monoSinceAsOf, long voidAfterSinceAsOf)
    {
        _segments.Write(new ClockErrorBound(AsOf, AsOf.AddNanoseconds(voidAfterSinceAsOf), boundNs, 3, ppb, stored, false));
        var raw = RawSegment.TryRead(_segments.ShmPath)!;
        Timespec mono = AsOf.AddNanoseconds(monoSinceAsOf);
        var expected = SpecReference.Compute(raw, RealtimeNs, (BigInteger)mono.Seconds * 1_000_000_000 + mono.Nanoseconds);

        using var client = _segments.Open();
        if (expected.Malformed || expected.CausalityBreach)
        {
            var e = Assert.Throws<ClockBoundException>(() => client.NowAt(Realtime, mono));
            Assert.Equal(expected.Malformed ? ClockBoundErrorKind.SegmentMalformed : ClockBoundErrorKind.CausalityBreach, e.Kind);
            return;
        }
        var now = client.NowAt(Realtime, mono);
        Assert.Equal(expected.Status, (int)now.Status);
        Assert.Equal(expected.Bound, now.BoundNanoseconds);
        Assert.Equal(expected.Earliest, now.EarliestNanoseconds);
        Assert.Equal(expected.Latest, now.LatestNanoseconds);
    }

    [Fact]
    public void Now_must_see_every_update_of_the_writer()
    {
        _segments.Write(Record(ClockStatus.Synchronized, boundNs: 1_000));
        using var client = _segments.Open();
        Assert.Equal(1_000, client.NowAt(Realtime, AsOf).BoundNanoseconds);
        _segments.Write(Record(ClockStatus.Disrupted, boundNs: 2_000));
        var now = client.NowAt(Realtime, AsOf);
        Assert.Equal((2_000L, ClockStatus.Disrupted), (now.BoundNanoseconds, now.Status));
    }

    [Fact]
    public void Now_on_the_real_clocks_must_bracket_this_hosts_realtime_clock()
    {
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, boundNs: 1_000_000, ppb: 0));
        using var client = _segments.Open();
        long before = Clocks.Realtime().TotalNanoseconds;
        var now = client.Now();
        long after = Clocks.Realtime().TotalNanoseconds;
        Assert.Equal(ClockStatus.Synchronized, now.Status);
        Assert.Equal(1_000_000, now.BoundNanoseconds);
        Assert.InRange(now.EarliestNanoseconds + now.BoundNanoseconds, before, after);
        Assert.Equal(now.EarliestNanoseconds + 2 * now.BoundNanoseconds, now.LatestNanoseconds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Now_must_not_allocate(bool disruptionSupport)
    {
        using var vmClock = FakeVmClock.Create(_segments.VmClockPath, marker: 4);
        _segments.Write(Segments.Fresh(ClockStatus.Synchronized, marker: 4, disruptionSupport: disruptionSupport));
        using var client = _segments.Open();
        _ = client.Now();
        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < 100_000; i++)
            sum += client.Now().BoundNanoseconds;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sum > 0);
    }

    [Fact]
    public void Time_must_convert_to_DateTimeOffset_rounding_outwards()
    {
        var time = new ClockBoundTime(1_700_000_000_123_456_789, 1_700_000_000_123_456_801, 6, ClockStatus.Synchronized);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123).AddTicks(4567), time.Earliest);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123).AddTicks(4569), time.Latest);
        Assert.True(time.IsUsable);
        Assert.False(time with { Status = ClockStatus.Unknown } is { IsUsable: true });
    }
}
