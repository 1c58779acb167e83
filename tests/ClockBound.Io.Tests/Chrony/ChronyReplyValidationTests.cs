using System.Buffers.Binary;
using ClockBound.Io.Chrony;
using ClockBound.TestSupport;
using static ClockBound.Io.Tests.Chrony.ChronyPackets;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>The client against a fake chronyd socket that answers with hostile or failing replies.</summary>
public sealed class ChronyReplyValidationTests : IDisposable
{
    /// <summary>Long enough for a loaded test machine: only the timeout tests wait for it to expire, and they use their own client.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>For the tests that expect a timeout.</summary>
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(300);

    private readonly TempDirectory _directory = new();
    private readonly FakeChronydSocket _chronyd;
    private readonly ChronyClient _client;

    public ChronyReplyValidationTests()
    {
        _chronyd = new FakeChronydSocket(_directory.Combine("chronyd.sock"));
        _client = ChronyClient.Connect(_chronyd.Path, timeout: Timeout);
    }

    public void Dispose()
    {
        _client.Dispose();
        _chronyd.Dispose();
        _directory.Dispose();
    }

    private Task<ChronyException> TrackingFailsWith(Func<byte[], byte[]> reply) => TrackingFailsWith(_client, reply);

    private async Task<ChronyException> TrackingFailsWith(ChronyClient client, Func<byte[], byte[]> reply)
    {
        var tracking = client.GetTrackingAsync();
        var request = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(reply(request), client.SocketPath);
        return await Assert.ThrowsAsync<ChronyException>(() => tracking);
    }

    [Fact]
    public async Task Client_must_send_tracking_request_and_decode_the_reply()
    {
        var tracking = _client.GetTrackingAsync();
        var request = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);

        var reply = await tracking;

        Assert.Equal(104, request.Length);
        Assert.Equal(Hex("06 01 00 00 00 21 00 00"), request[..8]);
        Assert.Equal(new Timespec(1795692742, 8406773), reply.ReferenceTime);
        Assert.Equal(9, reply.Stratum);
    }

    [Fact]
    public async Task Client_must_use_a_new_sequence_for_each_request()
    {
        var sequences = new HashSet<uint>();
        for (var i = 0; i < 5; i++)
        {
            var tracking = _client.GetTrackingAsync();
            var request = await _chronyd.ReceiveRequestAsync();
            sequences.Add(BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8)));
            await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);
            await tracking;
        }

        Assert.Equal(5, sequences.Count);
    }

    [Theory]
    [InlineData("truncated", 103)]
    [InlineData("oversized", 105)]
    [InlineData("header only", 28)]
    [InlineData("larger than the receive buffer", 2000)] // seen as the buffer's length
    public async Task Reply_of_wrong_length_must_fail(string _, int length)
    {
        var e = await TrackingFailsWith(request =>
        {
            var reply = new byte[length];
            TrackingReplyTo(request).AsSpan(0, Math.Min(length, 104)).CopyTo(reply);
            return reply;
        });

        Assert.Equal(ChronyErrorKind.BadLength, e.Kind);
        Assert.Contains(_chronyd.Path, e.Message);
        Assert.Contains("expected 104", e.Message);
    }

    [Theory]
    [InlineData(0, 5, ChronyErrorKind.BadVersion)]  // protocol version 5
    [InlineData(0, 7, ChronyErrorKind.BadVersion)]  // protocol version 7
    [InlineData(1, 1, ChronyErrorKind.BadVersion)]  // a request, not a reply
    [InlineData(7, 2, ChronyErrorKind.InvalidReply)] // reply type 2 instead of 5 (tracking)
    public async Task Reply_with_bad_header_or_body_field_must_fail(int offset, byte value, ChronyErrorKind kind)
    {
        var e = await TrackingFailsWith(request => TrackingReplyTo(request, reply => { reply[offset] = value; return reply; }));

        Assert.Equal(kind, e.Kind);
        Assert.Contains(_chronyd.Path, e.Message);
    }

    [Fact]
    public async Task A_leap_status_chrony_does_not_define_must_be_decoded_not_fail()
    {
        var tracking = _client.GetTrackingAsync();
        var request = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(TrackingReplyTo(request, reply => { reply[55] = 7; return reply; }), _client.SocketPath);

        Assert.Equal((LeapStatus)7, (await tracking).LeapStatus);
    }

    [Fact]
    public async Task Reference_time_with_a_billion_nanoseconds_must_fail()
    {
        var e = await TrackingFailsWith(request => TrackingReplyTo(request, reply =>
        {
            BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(64), 1_000_000_000);
            return reply;
        }));

        Assert.Equal(ChronyErrorKind.InvalidReply, e.Kind);
    }

    [Theory]
    [InlineData(1, ChronyErrorKind.Failed)]
    [InlineData(2, ChronyErrorKind.Unauthorised)]
    [InlineData(3, ChronyErrorKind.InvalidCommand)]
    [InlineData(4, ChronyErrorKind.NoSuchSource)]
    [InlineData(18, ChronyErrorKind.BadPacketVersion)]
    [InlineData(19, ChronyErrorKind.BadPacketLength)]
    [InlineData(5, ChronyErrorKind.UnexpectedStatus)]
    [InlineData(21, ChronyErrorKind.UnexpectedStatus)]
    [InlineData(65535, ChronyErrorKind.UnexpectedStatus)]
    public async Task Failure_status_must_map_to_its_kind(ushort status, ChronyErrorKind kind)
    {
        var e = await TrackingFailsWith(request => StatusReplyTo(request, status));

        Assert.Equal(kind, e.Kind);
        Assert.Contains($"status {status}", e.Message);
        Assert.Contains(_chronyd.Path, e.Message);
    }

    [Theory]
    [InlineData(1, ChronyErrorKind.Failed)]
    [InlineData(4, ChronyErrorKind.NoSuchSource)]
    public async Task Failure_status_must_fail_burst(ushort status, ChronyErrorKind kind)
    {
        var burst = _client.BurstAsync(4, 8);
        var request = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(StatusReplyTo(request, status), _client.SocketPath);

        var e = await Assert.ThrowsAsync<ChronyException>(() => burst);

        Assert.Equal(kind, e.Kind);
        Assert.Equal(68, request.Length);
    }

    public static TheoryData<string, Func<byte[], byte[]>> StrayDatagrams => new()
    {
        { "other sequence", request => TrackingReplyTo(request, r => { r[19] ^= 0xFF; return r; }) },
        { "other command", request => TrackingReplyTo(request, r => { r[5] = 66; return r; }) },
        { "shorter than a reply header", request => TrackingReplyTo(request)[..27] },
        { "empty", _ => [] },
    };

    [Theory]
    [MemberData(nameof(StrayDatagrams))]
    public async Task Stray_datagram_must_be_ignored_until_timeout(string _, Func<byte[], byte[]> stray)
    {
        using var client = ChronyClient.Connect(_chronyd.Path, timeout: ShortTimeout);

        var e = await TrackingFailsWith(client, stray);

        Assert.Equal(ChronyErrorKind.Timeout, e.Kind);
        Assert.Contains(_chronyd.Path, e.Message);
    }

    [Fact]
    public async Task A_client_without_a_timeout_of_its_own_must_wait_until_the_callers_token_is_cancelled()
    {
        using var client = ChronyClient.Connect(_chronyd.Path, timeout: System.Threading.Timeout.InfiniteTimeSpan);
        using var cancel = new CancellationTokenSource();

        var tracking = client.GetTrackingAsync(cancel.Token);
        await _chronyd.ReceiveRequestAsync(); // no reply: only the caller can end the request
        Assert.False(tracking.IsCompleted);
        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracking);
    }

    [Fact]
    public async Task A_client_without_a_timeout_of_its_own_must_still_decode_the_reply()
    {
        using var client = ChronyClient.Connect(_chronyd.Path, timeout: System.Threading.Timeout.InfiniteTimeSpan);

        var tracking = client.GetTrackingAsync();
        var request = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(TrackingReplyTo(request), client.SocketPath);

        Assert.Equal(LeapStatus.Normal, (await tracking).LeapStatus);
    }

    [Fact]
    public async Task Stray_datagrams_must_be_skipped_for_the_matching_reply()
    {
        var tracking = _client.GetTrackingAsync();
        var request = await _chronyd.ReceiveRequestAsync();
        foreach (var (_, stray) in StrayDatagrams.Select(row => ((string)row[0], (Func<byte[], byte[]>)row[1])))
            await _chronyd.SendAsync(stray(request), _client.SocketPath);
        await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);

        Assert.Equal(0x7F000001u, (await tracking).ReferenceId);
    }

    [Fact]
    public async Task Late_reply_to_an_abandoned_request_must_not_answer_the_next_one()
    {
        byte[] abandonedRequest;
        using (var cancellation = new CancellationTokenSource())
        {
            var first = _client.GetTrackingAsync(cancellation.Token);
            abandonedRequest = await _chronyd.ReceiveRequestAsync();
            cancellation.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        }

        var second = _client.GetTrackingAsync();
        var secondRequest = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(StatusReplyTo(abandonedRequest, 1), _client.SocketPath); // the late answer to the first
        await _chronyd.SendAsync(TrackingReplyTo(secondRequest), _client.SocketPath);

        Assert.Equal(9, (await second).Stratum);
    }

    [Fact]
    public async Task Second_request_while_one_is_in_flight_must_be_refused()
    {
        var first = _client.GetTrackingAsync();
        var request = await _chronyd.ReceiveRequestAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.GetTrackingAsync());

        await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);
        Assert.Equal(9, (await first).Stratum);
    }

    [Fact]
    public async Task Caller_cancellation_must_cancel_not_time_out()
    {
        using var cancellation = new CancellationTokenSource();
        var tracking = _client.GetTrackingAsync(cancellation.Token);
        await _chronyd.ReceiveRequestAsync();
        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracking);
    }

    [Fact]
    public async Task Reset_sources_and_burst_must_accept_the_empty_reply()
    {
        var reset = _client.ResetSourcesAsync();
        var resetRequest = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(StatusReplyTo(resetRequest, 0), _client.SocketPath);
        await reset;

        var burst = _client.BurstAsync(2, 3);
        var burstRequest = await _chronyd.ReceiveRequestAsync();
        await _chronyd.SendAsync(StatusReplyTo(burstRequest, 0), _client.SocketPath);
        await burst;

        Assert.Equal(28, resetRequest.Length);
        Assert.Equal(66, resetRequest[5]);
        Assert.Equal(Hex("00 00 00 02 00 00 00 03"), burstRequest[60..68]);
    }
}
