using ClockBound.Io.Bound;
using ClockBound.Io.Chrony;
using ClockBound.Io.Tests.Chrony;

namespace ClockBound.Io.Tests.Bound;

public class ErrorBoundCalculatorTests
{
    private const uint PhcRef = 0x50484330; // "PHC0"
    private const uint NtpRef = 0x7F000001;

    private static readonly Timespec ReferenceTime = new(1_700_000_000, 250_000_000);
    private static readonly Timespec AsOf = new(12_345, 678);

    /// <summary>Half a second after the reference time of <see cref="ChronyPackets.SynchronisedTrackingReply"/>: fresh.</summary>
    private static readonly Timespec HalfASecondAfterTheCapture = new(1795692742, 508406773);

    /// <summary>A fresh, synchronised reply with a 1 s update interval and no error; tests change what they need.</summary>
    private static TrackingReply Tracking(
        LeapStatus leap = LeapStatus.Normal, double rootDelay = 0, double rootDispersion = 0, double correction = 0,
        double interval = 1.0, uint refId = NtpRef, Timespec? referenceTime = null) =>
        new(ReferenceId: refId, ReferenceAddress: null, Stratum: 3, LeapStatus: leap,
            ReferenceTime: referenceTime ?? ReferenceTime, CurrentCorrection: correction, LastOffset: 0, RmsOffset: 0,
            Frequency: 0, ResidualFrequency: 0, Skew: 0, RootDelay: rootDelay, RootDispersion: rootDispersion,
            LastUpdateInterval: interval);

    private static ChronySample Compute(TrackingReply tracking, long ageNanoseconds = 500_000_000, PhcBound? phc = null,
        double staleFactor = ErrorBoundCalculator.DefaultStaleFactor) =>
        ErrorBoundCalculator.Compute(tracking, AsOf, tracking.ReferenceTime.AddNanoseconds(ageNanoseconds), phc, staleFactor);

    /// <summary>The captured synchronised reply, decoded after writing each change's bytes at its offset.</summary>
    private static TrackingReply CapturedReply(params (int Offset, string Hex)[] changes)
    {
        var packet = (byte[])ChronyPackets.SynchronisedTrackingReply.Clone();
        foreach (var (offset, hex) in changes)
            ChronyPackets.Hex(hex).CopyTo(packet, offset);
        return TrackingReply.ReadFrom(packet);
    }

    // Values are binary fractions, so the expected nanoseconds are exact.
    [Theory]
    [InlineData(0.0, 0.0, 0.0, 0L)]
    [InlineData(0.5, 0.25, 0.125, 625_000_000L)] // delay halved, dispersion and correction added
    [InlineData(0.5, 0.25, -0.125, 625_000_000L)] // |negative correction|
    [InlineData(2.0, 0.0, 0.0, 1_000_000_000L)]
    [InlineData(0.0, 0.0, -1.5, 1_500_000_000L)]
    [InlineData(0.0, 9.5367431640625e-7, 0.0, 954L)] // 2^-20 s = 953.674... ns, rounded up
    [InlineData(0.0, 9.313225746154785e-10, 0.0, 1L)] // 2^-30 s = 0.93 ns, rounded up
    [InlineData(0.0009765625, 0.0, 0.0, 488_282L)] // 2^-10 s / 2 = 488281.25 ns, rounded up
    public void Bound_must_be_half_delay_plus_dispersion_plus_absolute_correction_rounded_up(
        double rootDelay, double rootDispersion, double correction, long expectedNanoseconds)
    {
        var sample = Compute(Tracking(rootDelay: rootDelay, rootDispersion: rootDispersion, correction: correction));

        Assert.Equal(expectedNanoseconds, sample.BoundNanoseconds);
    }

    [Fact]
    public void Sample_must_carry_the_given_as_of()
    {
        Assert.Equal(AsOf, Compute(Tracking()).AsOf);
    }

    [Theory]
    [InlineData(LeapStatus.Normal, ChronyClockStatus.Synchronized)]
    [InlineData(LeapStatus.InsertSecond, ChronyClockStatus.Synchronized)]
    [InlineData(LeapStatus.DeleteSecond, ChronyClockStatus.Synchronized)]
    [InlineData(LeapStatus.Unsynchronised, ChronyClockStatus.FreeRunning)]
    [InlineData((LeapStatus)4, ChronyClockStatus.Unknown)]
    [InlineData((LeapStatus)0xFFFF, ChronyClockStatus.Unknown)]
    public void Status_must_follow_the_leap_status(LeapStatus leap, ChronyClockStatus expected)
    {
        Assert.Equal(expected, Compute(Tracking(leap)).Status);
    }

    // Stale when the reference is strictly older than staleFactor × update interval.
    [Theory]
    [InlineData(1.0, 8.0, 8_000_000_000L, ChronyClockStatus.Synchronized)] // exactly 8 intervals: still fresh
    [InlineData(1.0, 8.0, 8_000_000_001L, ChronyClockStatus.FreeRunning)] // 1 ns more: stale
    [InlineData(64.0, 8.0, 511_999_999_999L, ChronyClockStatus.Synchronized)]
    [InlineData(64.0, 8.0, 512_000_000_001L, ChronyClockStatus.FreeRunning)]
    [InlineData(1.0, 2.0, 2_000_000_000L, ChronyClockStatus.Synchronized)] // a configured factor
    [InlineData(1.0, 2.0, 2_000_000_001L, ChronyClockStatus.FreeRunning)]
    [InlineData(0.0, 8.0, 0L, ChronyClockStatus.Synchronized)] // just synchronised, interval 0: fresh only at age 0
    [InlineData(0.0, 8.0, 1L, ChronyClockStatus.FreeRunning)] // ... and stale from the next nanosecond
    public void Synchronized_must_become_FreeRunning_when_the_reference_is_older_than_the_stale_limit(
        double interval, double staleFactor, long ageNanoseconds, ChronyClockStatus expected)
    {
        var sample = Compute(Tracking(interval: interval), ageNanoseconds, staleFactor: staleFactor);

        Assert.Equal(expected, sample.Status);
    }

    // The captured synchronised reply (reference time 1795692742.008406773) with the reference time's seconds (offset 56,
    // high then low 32 bits) and the update interval (offset 100, chrony float) replaced; "now" is half a second after
    // the capture. A seconds-high of 0x80000000 or more decodes to negative seconds: a reference time before 1970, which
    // no synchronised chronyd can have (the reference daemon counts it as stale too), whatever the update interval says.
    [Theory]
    [InlineData("80 00 00 00 00 00 00 00", "00 00 00 00")] // the most negative seconds: its age saturated and wrapped to "fresh"
    [InlineData("80 00 00 00 6B 08 18 C6", "7E FF FF FF")] // ... with the largest interval chrony can encode (about 2^62 s)
    [InlineData("C0 00 00 00 6B 08 18 C6", "04 80 00 00")] // -2^62 + low, interval 1 s
    [InlineData("FF FF FF FE 00 00 00 00", "04 80 00 00")] // -2^33: no saturation, but now minus it overflowed a long
    [InlineData("FF FF FF FF 6B 08 18 C6", "7E FF FF FF")] // -2^32 + low (1890): younger than 8 × 2^62 s, still before 1970
    [InlineData("FF FF FF FF FF FF FF FF", "7E FF FF FF")] // less than a second before the epoch
    public void A_Synchronized_reply_with_a_reference_time_before_1970_must_be_FreeRunning(string seconds, string interval)
    {
        var tracking = CapturedReply((56, seconds), (100, interval));
        Assert.Equal(LeapStatus.Normal, tracking.LeapStatus);
        Assert.True(tracking.ReferenceTime.Seconds < 0, $"reference time {tracking.ReferenceTime} must decode as before 1970");

        var sample = ErrorBoundCalculator.Compute(tracking, AsOf, HalfASecondAfterTheCapture);

        Assert.Equal(ChronyClockStatus.FreeRunning, sample.Status);
    }

    // The captured synchronised reply with its leap status (offset 54) replaced: chrony defines 0-3; anything else is
    // Unknown (daemon-behaviour.md, "The clock error bound", step 4), a reply like any other, not a failed poll.
    [Theory]
    [InlineData("00 04", 4)]
    [InlineData("00 07", 7)]
    [InlineData("01 00", 256)]
    [InlineData("FF FF", 65535)]
    public void A_reply_with_a_leap_status_of_4_or_more_must_be_Unknown(string leap, ushort expected)
    {
        var tracking = CapturedReply((54, leap));
        Assert.Equal((LeapStatus)expected, tracking.LeapStatus);

        Assert.Equal(ChronyClockStatus.Unknown, ErrorBoundCalculator.Compute(tracking, AsOf, HalfASecondAfterTheCapture).Status);
    }

    // The same rule without the decoder, at the edges: the last nanosecond before the epoch and the smallest Timespec.
    [Theory]
    [InlineData(-1L, 999_999_999L)]
    [InlineData(long.MinValue, 0L)]
    public void A_reference_time_before_the_epoch_must_be_stale_even_with_a_huge_update_interval(long seconds, long nanoseconds)
    {
        var tracking = Tracking(interval: 1e300, referenceTime: new Timespec(seconds, nanoseconds));

        Assert.Equal(ChronyClockStatus.FreeRunning, ErrorBoundCalculator.Compute(tracking, AsOf, ReferenceTime).Status);
    }

    // Any age between a reference at the epoch and the most distant "now" must be computed without overflow.
    [Theory]
    [InlineData(0L, long.MaxValue, 1e300, ChronyClockStatus.Synchronized)] // the interval covers even that age
    [InlineData(0L, long.MaxValue, 1.0, ChronyClockStatus.FreeRunning)]
    [InlineData(long.MaxValue - 8, long.MaxValue, 1.0, ChronyClockStatus.Synchronized)] // 8 s: fresh where totals saturate
    [InlineData(long.MaxValue - 9, long.MaxValue, 1.0, ChronyClockStatus.FreeRunning)] // 9 s: stale, not "0 ns old"
    public void Reference_age_must_not_overflow_or_saturate_for_any_non_negative_reference_time(
        long referenceSeconds, long nowSeconds, double interval, ChronyClockStatus expected)
    {
        var tracking = Tracking(interval: interval, referenceTime: new Timespec(referenceSeconds, 0));

        Assert.Equal(expected, ErrorBoundCalculator.Compute(tracking, AsOf, new Timespec(nowSeconds, 0)).Status);
    }

    [Theory]
    [InlineData(LeapStatus.Unsynchronised, ChronyClockStatus.FreeRunning)]
    [InlineData((LeapStatus)7, ChronyClockStatus.Unknown)]
    public void Staleness_must_not_change_a_status_other_than_Synchronized(LeapStatus leap, ChronyClockStatus expected)
    {
        Assert.Equal(expected, Compute(Tracking(leap, interval: 0), ageNanoseconds: 3_600_000_000_000).Status);
    }

    // Right after a (re)start chronyd reports ref id 0, reference time 0, leap 3, delay and dispersion 1 s.
    [Fact]
    public void A_restarted_chronyd_must_be_FreeRunning_without_an_error_for_reference_time_zero()
    {
        var tracking = Tracking(LeapStatus.Unsynchronised, rootDelay: 1, rootDispersion: 1, interval: 0, refId: 0,
            referenceTime: new Timespec(0, 0));

        var sample = ErrorBoundCalculator.Compute(tracking, AsOf, ReferenceTime, phc: new PhcBound(PhcRef, 100));

        Assert.Equal(new ChronySample(AsOf, 1_500_000_000, ChronyClockStatus.FreeRunning), sample);
    }

    [Theory]
    [InlineData(PhcRef, PhcRef, 1_000_250L)] // chrony follows the PHC: its bound is added
    [InlineData(NtpRef, PhcRef, 250L)] // chrony follows another source
    [InlineData(PhcRef, 0x50484331u, 250L)] // another PHC ("PHC1")
    public void PHC_bound_must_be_added_only_when_chrony_references_the_PHC(uint trackingRef, uint phcRef, long expected)
    {
        var tracking = Tracking(rootDispersion: 2.5e-7, refId: trackingRef);

        Assert.Equal(expected, Compute(tracking, phc: new PhcBound(phcRef, 1_000_000)).BoundNanoseconds);
    }

    [Fact]
    public void No_PHC_must_add_nothing()
    {
        Assert.Equal(250L, Compute(Tracking(rootDispersion: 2.5e-7, refId: PhcRef), phc: null).BoundNanoseconds);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(1_000_000_000L)]
    public void A_reference_time_in_the_future_must_be_an_InvalidReply_naming_the_socket(long aheadNanoseconds)
    {
        var tracking = Tracking();
        Timespec now = ReferenceTime.AddNanoseconds(-aheadNanoseconds);

        var e = Assert.Throws<ChronyException>(() =>
            ErrorBoundCalculator.Compute(tracking, AsOf, now, socketPath: "/run/chrony/chronyd.sock"));

        Assert.Equal(ChronyErrorKind.InvalidReply, e.Kind);
        Assert.Equal("/run/chrony/chronyd.sock", e.SocketPath);
        Assert.Contains("chronyd at /run/chrony/chronyd.sock", e.Message);
        Assert.Contains($"reference time {ReferenceTime}", e.Message);
    }

    [Fact]
    public void A_reference_time_equal_to_now_must_be_accepted()
    {
        Assert.Equal(ChronyClockStatus.Synchronized, Compute(Tracking(), ageNanoseconds: 0).Status);
    }

    [Theory]
    [InlineData(double.NaN, 0.0, 0.0, 1.0, "root delay of NaN")]
    [InlineData(double.PositiveInfinity, 0.0, 0.0, 1.0, "root delay of Infinity")]
    [InlineData(-1e-9, 0.0, 0.0, 1.0, "root delay of -1E-09")]
    [InlineData(0.0, double.NaN, 0.0, 1.0, "root dispersion of NaN")]
    [InlineData(0.0, -0.5, 0.0, 1.0, "root dispersion of -0.5")]
    [InlineData(0.0, 0.0, double.NaN, 1.0, "current correction of NaN")]
    [InlineData(0.0, 0.0, double.NegativeInfinity, 1.0, "current correction of -Infinity")]
    [InlineData(0.0, 0.0, 0.0, double.NaN, "last update interval of NaN")]
    [InlineData(0.0, 0.0, 0.0, -1.0, "last update interval of -1")]
    [InlineData(0.0, 1e10, 0.0, 1.0, "too large")] // 1e19 ns does not fit in a long
    public void Values_that_are_not_a_usable_number_of_seconds_must_be_an_InvalidReply(
        double rootDelay, double rootDispersion, double correction, double interval, string reason)
    {
        var tracking = Tracking(rootDelay: rootDelay, rootDispersion: rootDispersion, correction: correction, interval: interval);

        var e = Assert.Throws<ChronyException>(() => Compute(tracking));

        Assert.Equal(ChronyErrorKind.InvalidReply, e.Kind);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void A_huge_bound_that_fits_in_a_long_must_be_accepted()
    {
        Assert.Equal(5_000_000_000_000_000_000L, Compute(Tracking(rootDelay: 1e10)).BoundNanoseconds);
    }

    [Fact]
    public void An_added_PHC_bound_must_saturate_instead_of_overflowing()
    {
        var tracking = Tracking(rootDispersion: 9e9, refId: PhcRef); // 9e18 ns

        Assert.Equal(long.MaxValue, Compute(tracking, phc: new PhcBound(PhcRef, 1_000_000_000_000_000_000)).BoundNanoseconds);
    }
}
