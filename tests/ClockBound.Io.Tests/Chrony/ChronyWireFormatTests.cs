using System.Net;
using ClockBound.Io.Chrony;
using static ClockBound.Io.Tests.Chrony.ChronyPackets;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>Requests and replies byte for byte against packets captured from a real chronyd.</summary>
public class ChronyWireFormatTests
{
    private const string Socket = "/run/test/chronyd.sock";

    public static TheoryData<string, byte[]> CapturedRequests => new()
    {
        { "tracking", Hex("06 01 00 00 00 21 00 00 7b 9e 2a e6" + Zeros(92)) },
        { "reset sources", Hex("06 01 00 00 00 42 00 00 45 25 01 a5" + Zeros(16)) },
        { "burst 4/8", Hex("06 01 00 00 00 03 00 00 42 10 90 c6" + Zeros(48) + "00 00 00 04 00 00 00 08") },
    };

    [Theory]
    [MemberData(nameof(CapturedRequests))]
    public void Request_must_equal_chronycs_bytes(string request, byte[] captured)
    {
        var buffer = new byte[ChronyCommand.MaxRequestLength];
        buffer.AsSpan().Fill(0xAA); // leftovers of an earlier request must not leak into this one
        var length = request switch
        {
            "tracking" => ChronyRequests.WriteTracking(buffer, TrackingSequence),
            "reset sources" => ChronyRequests.WriteResetSources(buffer, ResetSourcesSequence),
            "burst 4/8" => ChronyRequests.WriteBurst(buffer, BurstSequence, 4, 8),
            _ => throw new ArgumentOutOfRangeException(nameof(request)),
        };

        Assert.Equal(Convert.ToHexString(captured), Convert.ToHexString(buffer, 0, length));
    }

    [Fact]
    public void Request_header_must_be_20_bytes_and_reply_header_28()
    {
        Assert.Equal(20, ChronyRequestHeader.Size);
        Assert.Equal(28, ChronyReplyHeader.Size);
        Assert.Equal(104, ChronyCommand.Tracking.RequestLength);
        Assert.Equal(28, ChronyCommand.ResetSources.RequestLength);
        Assert.Equal(68, ChronyCommand.Burst.RequestLength);
    }

    [Fact]
    public void Reply_header_must_decode_captured_tracking_reply()
    {
        var header = ChronyReplyHeader.ReadFrom(SynchronisedTrackingReply);

        Assert.Equal(new ChronyReplyHeader(Version: 6, PacketType: 2, Command: 33, ReplyType: 5, Status: 0, Sequence: TrackingSequence), header);
    }

    [Fact]
    public void Synchronised_tracking_reply_must_decode_to_documented_values()
    {
        Assert.True(ChronyReplyValidator.IsValidReply(SynchronisedTrackingReply, ChronyCommand.Tracking, TrackingSequence, Socket));

        var t = TrackingReply.ReadFrom(SynchronisedTrackingReply);

        Assert.Equal(0x7F000001u, t.ReferenceId);
        Assert.Equal(IPAddress.Parse("127.0.0.1"), t.ReferenceAddress);
        Assert.Equal(9, t.Stratum);
        Assert.Equal(LeapStatus.Normal, t.LeapStatus);
        Assert.Equal(new Timespec(1795692742, 8406773), t.ReferenceTime);
        // The expected values are written to 4 or 5 significant digits: allow half a unit of the last documented digit.
        AssertClose(-6.775e-6, t.CurrentCorrection, 0.0005e-6);
        AssertClose(-7.826e-6, t.LastOffset, 0.0005e-6);
        AssertClose(3.833e-6, t.RmsOffset, 0.0005e-6);
        AssertClose(0.0337, t.Frequency, 0.00005);
        AssertClose(-0.0052, t.ResidualFrequency, 0.00005);
        AssertClose(0.1411, t.Skew, 0.00005);
        AssertClose(1.6216e-5, t.RootDelay, 0.00005e-5);
        AssertClose(4.692e-6, t.RootDispersion, 0.0005e-6);
        AssertClose(1.0138, t.LastUpdateInterval, 0.00005);
    }

    [Fact]
    public void A_reference_address_equal_to_the_previous_one_must_be_that_instance()
    {
        var same = IPAddress.Parse("127.0.0.1");
        Assert.Same(same, TrackingReply.ReadFrom(SynchronisedTrackingReply, same).ReferenceAddress);

        // Another address, another family, or an IPv6 address with a scope: a new, decoded address.
        foreach (var other in new[] { IPAddress.Parse("127.0.0.2"), IPAddress.Parse("::ffff:127.0.0.1"), IPAddress.Parse("fe80::1%2") })
        {
            var decoded = TrackingReply.ReadFrom(SynchronisedTrackingReply, other).ReferenceAddress;
            Assert.NotSame(other, decoded);
            Assert.Equal(IPAddress.Parse("127.0.0.1"), decoded);
        }
        Assert.Null(TrackingReply.ReadFrom(UnsynchronisedTrackingReply, same).ReferenceAddress);
    }

    [Fact]
    public void Unsynchronised_tracking_reply_must_decode_to_leap_3_without_reference()
    {
        Assert.True(ChronyReplyValidator.IsValidReply(UnsynchronisedTrackingReply, ChronyCommand.Tracking, UnsynchronisedSequence, Socket));

        var t = TrackingReply.ReadFrom(UnsynchronisedTrackingReply);

        Assert.Equal(0u, t.ReferenceId);
        Assert.Null(t.ReferenceAddress);
        Assert.Equal(0, t.Stratum);
        Assert.Equal(LeapStatus.Unsynchronised, t.LeapStatus);
        Assert.Equal(new Timespec(0, 0), t.ReferenceTime);
        Assert.Equal(1.0, t.RootDelay);
        Assert.Equal(1.0, t.RootDispersion);
    }

    [Theory]
    [InlineData("7F FF FF FF", 0x6b0818c6L)] // chronyd's marker for "high 32 bits are 0"
    [InlineData("00 00 00 00", 0x6b0818c6L)]
    [InlineData("00 00 00 01", 0x1_6b0818c6L)]
    [InlineData("FF FF FF FF", -0x1_0000_0000L + 0x6b0818c6L)] // 1890: seconds-high >= 0x80000000 is before 1970
    [InlineData("80 00 00 00", long.MinValue + 0x6b0818c6L)]
    public void Reference_time_must_combine_high_and_low_seconds(string secondsHigh, long seconds)
    {
        var packet = (byte[])SynchronisedTrackingReply.Clone();
        Hex(secondsHigh).CopyTo(packet, 56);

        Assert.Equal(new Timespec(seconds, 8406773), TrackingReply.ReadFrom(packet).ReferenceTime);
    }

    // chrony defines 0-3; the decoder keeps any other value as it is, for the calculator to map to Unknown.
    [Theory]
    [InlineData("00 04", 4)]
    [InlineData("00 07", 7)]
    [InlineData("FF FF", 65535)]
    public void Leap_status_above_3_must_decode_to_its_raw_value(string leap, ushort expected)
    {
        var packet = (byte[])SynchronisedTrackingReply.Clone();
        Hex(leap).CopyTo(packet, 54);

        Assert.Equal((LeapStatus)expected, TrackingReply.ReadFrom(packet).LeapStatus);
    }

    [Theory]
    [InlineData(1, "10 20 30 40")]                                      // IPv4: the first 4 bytes
    [InlineData(2, "10 20 30 40 20 01 0d b8 00 00 00 00 00 00 00 01")] // IPv6: all 16 bytes
    [InlineData(3, null)]                                               // a reference id without address (refclock)
    [InlineData(0, null)]                                               // unspecified
    [InlineData(9, null)]                                               // unknown family
    public void Reference_address_must_follow_its_family(ushort family, string? expected)
    {
        var packet = (byte[])SynchronisedTrackingReply.Clone();
        Hex("10 20 30 40 20 01 0d b8 00 00 00 00 00 00 00 01").CopyTo(packet, 32);
        packet[48] = (byte)(family >> 8);
        packet[49] = (byte)family;

        var address = TrackingReply.ReadFrom(packet).ReferenceAddress;

        Assert.Equal(expected is null ? null : new IPAddress(Hex(expected)), address);
    }

    [Theory]
    [InlineData(0x04800000u, 2, 1 << 23, 1.0)]   // captured: root delay of an unsynchronised chronyd
    [InlineData(0x00000000u, 0, 0, 0.0)]         // captured
    [InlineData(0x05800000u, 2, -(1 << 23), -1.0)]
    [InlineData(0x01000000u, 0, -(1 << 24), -0.5)] // most negative coefficient
    [InlineData(0x03FFFFFFu, 1, -1, -5.9604644775390625e-8)]
    public void Chrony_float_must_decode_exponent_and_coefficient(uint raw, int exponent, int coefficient, double expected)
    {
        Assert.Equal(expected, coefficient * Math.Pow(2, exponent - 25));
        Assert.Equal(expected, ChronyFloat.Decode(raw));
    }

    [Theory]
    [InlineData(0x80000001u, 1, -64)]              // most negative exponent, smallest positive coefficient
    [InlineData(0x81FFFFFFu, -1, -64)]
    [InlineData(0x7EFFFFFFu, (1 << 24) - 1, 63)]   // largest exponent and coefficient
    [InlineData(0x7F000000u, -(1 << 24), 63)]      // largest exponent, most negative coefficient
    [InlineData(0x00FFFFFFu, (1 << 24) - 1, 0)]
    public void Chrony_float_must_reach_exponent_extremes(uint raw, int coefficient, int exponent)
    {
        Assert.Equal(coefficient * Math.Pow(2, exponent - 25), ChronyFloat.Decode(raw));
    }

    [Fact]
    public void Reset_sources_reply_must_be_valid()
    {
        Assert.True(ChronyReplyValidator.IsValidReply(ResetSourcesReply, ChronyCommand.ResetSources, ResetSourcesSequence, Socket));
    }

    [Fact]
    public void Burst_reply_must_be_valid()
    {
        Assert.True(ChronyReplyValidator.IsValidReply(BurstReply, ChronyCommand.Burst, BurstSequence, Socket));
    }

    private static void AssertClose(double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance, $"expected {expected} ± {tolerance}, got {actual}");
}
