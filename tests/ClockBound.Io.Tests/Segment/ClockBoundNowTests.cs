using ClockBound.Io.Segment;

namespace ClockBound.Io.Tests.Segment;

public sealed class ClockBoundNowTests
{
    private const string Path = "/run/test/shm0";
    private static readonly Timespec AsOf = new(1_000, 500_000_000);
    private static readonly Timespec Realtime = new(1_700_000_000, 250_000_000);

    private static ClockErrorBound Bound(ClockStatus status, long voidAfterNs = 60_000_000_000, long boundNs = 1_000, uint ppb = 0) =>
        new(AsOf, AsOf.AddNanoseconds(voidAfterNs), boundNs, 0, ppb, status, false);

    [Theory]
    // stored, mono − as_of (ns), void_after − as_of (ns), expected
    [InlineData(ClockStatus.Unknown, 0, 60_000_000_000, ClockStatus.Unknown)]
    [InlineData(ClockStatus.Unknown, 100_000_000_000, 60_000_000_000, ClockStatus.Unknown)]
    [InlineData(ClockStatus.Disrupted, 0, 60_000_000_000, ClockStatus.Disrupted)]
    [InlineData(ClockStatus.Disrupted, 100_000_000_000, 60_000_000_000, ClockStatus.Disrupted)]
    [InlineData(ClockStatus.Synchronized, 0, 60_000_000_000, ClockStatus.Synchronized)]
    [InlineData(ClockStatus.Synchronized, -999, 60_000_000_000, ClockStatus.Synchronized)]
    [InlineData(ClockStatus.Synchronized, 4_999_999_999, 60_000_000_000, ClockStatus.Synchronized)]
    [InlineData(ClockStatus.Synchronized, 5_000_000_000, 60_000_000_000, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.Synchronized, 59_999_999_999, 60_000_000_000, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.Synchronized, 60_000_000_000, 60_000_000_000, ClockStatus.Unknown)]
    [InlineData(ClockStatus.Synchronized, 3_000_000_000, 2_000_000_000, ClockStatus.Synchronized)] // grace wins over void_after
    [InlineData(ClockStatus.Synchronized, 5_000_000_000, 2_000_000_000, ClockStatus.Unknown)]
    [InlineData(ClockStatus.FreeRunning, 4_999_999_999, 60_000_000_000, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.FreeRunning, 5_000_000_000, 60_000_000_000, ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.FreeRunning, 60_000_000_000, 60_000_000_000, ClockStatus.Unknown)]
    [InlineData((ClockStatus)7, 0, 60_000_000_000, ClockStatus.Unknown)]
    public void Now_must_age_the_stored_status(ClockStatus stored, long monoSinceAsOf, long voidAfter, ClockStatus expected)
    {
        var result = ClockBoundNow.Compute(Bound(stored, voidAfter), Realtime, AsOf.AddNanoseconds(monoSinceAsOf), Path);
        Assert.Equal(expected, result.Status);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(-500)]
    [InlineData(-999)]
    public void Now_must_treat_a_monotonic_clock_less_than_1us_before_as_of_as_no_elapsed_time(long monoSinceAsOf)
    {
        var result = ClockBoundNow.Compute(Bound(ClockStatus.Synchronized, boundNs: 1_000, ppb: 999_999_999),
            Realtime, AsOf.AddNanoseconds(monoSinceAsOf), Path);
        Assert.Equal(1_000, result.BoundNanoseconds);
    }

    [Theory]
    [InlineData(-1_000)]
    [InlineData(-1_001)]
    [InlineData(-1_000_000_000)]
    [InlineData(-86_400_000_000_000)]
    public void Now_must_report_a_causality_breach_when_as_of_is_1us_or_more_in_the_future(long monoSinceAsOf)
    {
        var e = Assert.Throws<ClockBoundException>(() =>
            ClockBoundNow.Compute(Bound(ClockStatus.Synchronized), Realtime, AsOf.AddNanoseconds(monoSinceAsOf), Path));
        Assert.Equal(ClockBoundErrorKind.CausalityBreach, e.Kind);
        Assert.Contains(Path, e.Message);
    }

    [Theory]
    // bound_nsec, elapsed ns, max_drift_ppb, expected bound: bound_nsec + floor(elapsed × ppb / 1e9)
    [InlineData(1_000, 0, 50_000, 1_000)]
    [InlineData(1_000, 1_000_000_000, 50_000, 51_000)]
    [InlineData(0, 1_500_000_000, 15_000, 22_500)]
    [InlineData(0, 1, 999_999_999, 0)]
    [InlineData(0, 999_999_999, 1, 0)]
    [InlineData(0, 1_000_000_001, 1, 1)]
    [InlineData(7, 3_999_999_999, 250_000_001, 1_000_000_010)]
    [InlineData(0, 3_153_600_000_123_456_789, 999_999_999, 3_153_599_996_969_856_788)] // 100 years: needs 128-bit products
    [InlineData(1_000, 10_000_000_000, 0, 1_000)]
    public void Now_must_grow_the_bound_by_the_drift_since_as_of(long boundNs, long elapsed, uint ppb, long expected)
    {
        var result = ClockBoundNow.Compute(Bound(ClockStatus.Synchronized, long.MaxValue / 2, boundNs, ppb),
            Realtime, AsOf.AddNanoseconds(elapsed), Path);
        Assert.Equal(expected, result.BoundNanoseconds);
    }

    [Theory]
    // realtime sec, nsec, bound, earliest sec, nsec, latest sec, nsec
    [InlineData(1_700_000_000, 250_000_000, 1_000, 1_700_000_000, 249_999_000, 1_700_000_000, 250_001_000)]
    [InlineData(1_700_000_000, 100, 250, 1_699_999_999, 999_999_850, 1_700_000_000, 350)]
    [InlineData(1_700_000_000, 999_999_900, 250, 1_700_000_000, 999_999_650, 1_700_000_001, 150)]
    [InlineData(1_700_000_000, 0, 2_500_000_000, 1_699_999_997, 500_000_000, 1_700_000_002, 500_000_000)]
    public void Now_must_return_realtime_plus_and_minus_the_bound(long rs, long rn, long boundNs, long es, long en, long ls, long ln)
    {
        var result = ClockBoundNow.Compute(Bound(ClockStatus.Synchronized, boundNs: boundNs), new Timespec(rs, rn), AsOf, Path);
        Assert.Equal(new Timespec(es, en), result.Earliest);
        Assert.Equal(new Timespec(ls, ln), result.Latest);
        Assert.Equal(boundNs, result.BoundNanoseconds);
    }

    [Theory]
    [InlineData(1_000_000_000u)]
    [InlineData(uint.MaxValue)]
    public void Now_must_reject_a_drift_of_1e9_ppb_or_more_as_malformed(uint ppb)
    {
        var e = Assert.Throws<ClockBoundException>(() =>
            ClockBoundNow.Compute(Bound(ClockStatus.Synchronized, ppb: ppb), Realtime, AsOf, Path));
        Assert.Equal(ClockBoundErrorKind.SegmentMalformed, e.Kind);
        Assert.Contains(Path, e.Message);
    }

    [Fact]
    public void Now_must_not_allocate()
    {
        var bound = Bound(ClockStatus.Synchronized, ppb: 50_000);
        _ = ClockBoundNow.Compute(bound, Realtime, AsOf.AddSeconds(1), Path);
        long before = GC.GetAllocatedBytesForCurrentThread();
        long sum = 0;
        for (int i = 0; i < 10_000; i++)
            sum += ClockBoundNow.Compute(bound, Realtime, AsOf.AddNanoseconds(i), Path).BoundNanoseconds;
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(sum > 0);
    }
}
