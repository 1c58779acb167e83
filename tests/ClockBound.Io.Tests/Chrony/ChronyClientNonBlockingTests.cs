using System.Buffers.Binary;
using ClockBound.Io.Chrony;
using ClockBound.TestSupport;
using static ClockBound.Io.Tests.Chrony.ChronyPackets;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>
/// The non-blocking pair <see cref="ChronyClient.SendTracking"/> / <see cref="ChronyClient.TryReceiveTracking"/> against
/// a fake chronyd socket that answers only when the test says so: the reply is returned once it is there, stray datagrams
/// are skipped, the request holds the client until its reply is received or a call fails, an invalid reply fails as
/// chronyd's fault and ends the request, and a send reaches a restarted chronyd or says that its socket is missing.
/// (A Unix datagram is in the receiver's queue when the sender's send returns, so a reply the fake has sent is there
/// for the very next look.)
/// </summary>
public sealed class ChronyClientNonBlockingTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FakeChronydSocket _chronyd;
    private readonly ChronyClient _client;

    public ChronyClientNonBlockingTests()
    {
        _chronyd = new FakeChronydSocket(_directory.Combine("chronyd.sock"));
        _client = ChronyClient.Connect(_chronyd.Path);
    }

    public void Dispose()
    {
        _client.Dispose();
        _chronyd.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task SendTracking_must_send_a_tracking_request_and_return_its_sequence()
    {
        var sequence = _client.SendTracking();

        var request = await _chronyd.ReceiveRequestAsync();
        Assert.Equal(104, request.Length);
        Assert.Equal(Hex("06 01 00 00 00 21 00 00"), request[..8]);
        Assert.Equal(sequence, SequenceOf(request));
    }

    [Fact]
    public async Task TryReceiveTracking_must_be_false_until_chronyd_answers_and_then_return_the_decoded_reply()
    {
        var sequence = _client.SendTracking();
        var request = await RequestArrives(_chronyd, sequence);

        Assert.False(_client.TryReceiveTracking(sequence, out var none)); // chronyd has the request but has not answered
        Assert.Equal(default, none);
        Assert.False(_client.TryReceiveTracking(sequence, out _)); // looking again changes nothing

        await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);

        Assert.True(_client.TryReceiveTracking(sequence, out var reply));
        Assert.Equal(new Timespec(1795692742, 8406773), reply.ReferenceTime);
        Assert.Equal(0x7F000001u, reply.ReferenceId);
        Assert.Equal(9, reply.Stratum);
        Assert.Equal(LeapStatus.Normal, reply.LeapStatus);
    }

    /// <summary>Datagrams that are not the reply to the request (stratum 3 where they are whole tracking replies, the
    /// reply is stratum 9).</summary>
    public static TheoryData<string, Func<byte[], byte[]>> StrayDatagrams => new()
    {
        { "a tracking reply to another request", request => TrackingReplyTo(request, r => { r[19] ^= 0xFF; r[53] = 3; return r; }) },
        { "a late failure reply to another request", request => { var r = StatusReplyTo(request, 1); r[19] ^= 0xFF; return r; } },
        { "another command's reply with this sequence", request => TrackingReplyTo(request, r => { r[5] = 66; r[53] = 3; return r; }) },
        { "shorter than a reply header", request => TrackingReplyTo(request)[..27] },
        { "empty", _ => [] },
    };

    [Theory]
    [MemberData(nameof(StrayDatagrams))]
    public async Task A_stray_datagram_must_be_skipped_and_the_reply_behind_it_returned(string _, Func<byte[], byte[]> stray)
    {
        var sequence = _client.SendTracking();
        var request = await RequestArrives(_chronyd, sequence);

        await _chronyd.SendAsync(stray(request), _client.SocketPath);
        Assert.False(_client.TryReceiveTracking(sequence, out TrackingReply _)); // read and skipped: the request is still waiting

        await _chronyd.SendAsync(stray(request), _client.SocketPath);
        await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);
        Assert.True(_client.TryReceiveTracking(sequence, out var reply));
        Assert.Equal(9, reply.Stratum);
    }

    [Fact]
    public async Task A_flood_of_stray_datagrams_must_be_read_a_bounded_number_at_a_time_and_the_reply_found_behind_it()
    {
        var sequence = _client.SendTracking();
        var request = await RequestArrives(_chronyd, sequence);
        var stray = TrackingReplyTo(request, r => { r[19] ^= 0xFF; return r; }); // another request's sequence
        int strays = 2 * ChronyClient.MaxDatagramsPerLook + 5;
        for (int i = 0; i < strays; i++) await _chronyd.SendAsync(stray, _client.SocketPath);
        await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);

        // Each look reads at most MaxDatagramsPerLook datagrams: two looks skip the first 64 strays without finding the
        // reply, the third reads the last 5 and the reply.
        Assert.False(_client.TryReceiveTracking(sequence, out TrackingReply _));
        Assert.False(_client.TryReceiveTracking(sequence, out TrackingReply _));
        Assert.True(_client.TryReceiveTracking(sequence, out var reply));
        Assert.Equal(9, reply.Stratum);
    }

    [Fact]
    public async Task A_duplicate_reply_to_the_previous_request_must_not_answer_the_next()
    {
        var first = _client.SendTracking();
        var firstRequest = await RequestArrives(_chronyd, first);
        await _chronyd.SendAsync(TrackingReplyTo(firstRequest), _client.SocketPath);
        await _chronyd.SendAsync(TrackingReplyTo(firstRequest, r => { r[53] = 3; return r; }), _client.SocketPath);
        Assert.True(_client.TryReceiveTracking(first, out _)); // takes the first reply; the duplicate stays queued

        var second = _client.SendTracking();
        var secondRequest = await RequestArrives(_chronyd, second);
        Assert.False(_client.TryReceiveTracking(second, out _));

        await _chronyd.SendAsync(TrackingReplyTo(secondRequest, r => { r[53] = 4; return r; }), _client.SocketPath);
        Assert.True(_client.TryReceiveTracking(second, out var reply));
        Assert.Equal(4, reply.Stratum);
    }

    [Fact]
    public async Task Another_request_while_one_is_in_flight_must_be_refused_until_its_reply_is_received()
    {
        var sequence = _client.SendTracking();
        var request = await RequestArrives(_chronyd, sequence);
        Assert.False(_client.TryReceiveTracking(sequence, out _));

        Assert.Throws<InvalidOperationException>(() => _client.SendTracking());
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.GetTrackingAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => _client.ResetSourcesAsync());

        await _chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);
        Assert.True(_client.TryReceiveTracking(sequence, out _));

        // Free again, and the refused calls sent nothing: the next datagram chronyd sees is the new request.
        Assert.Equal(9, (await ExchangeWith(_chronyd)).Stratum);

        // The asynchronous request works on the same (non-blocking) socket.
        var tracking = _client.GetTrackingAsync();
        await _chronyd.SendAsync(TrackingReplyTo(await _chronyd.ReceiveRequestAsync()), _client.SocketPath);
        Assert.Equal(9, (await tracking).Stratum);
    }

    public static TheoryData<string, Func<byte[], byte[]>, ChronyErrorKind> InvalidReplies => new()
    {
        { "protocol version 5", request => TrackingReplyTo(request, r => { r[0] = 5; return r; }), ChronyErrorKind.BadVersion },
        { "a request, not a reply", request => TrackingReplyTo(request, r => { r[1] = 1; return r; }), ChronyErrorKind.BadVersion },
        { "failure status 1", request => StatusReplyTo(request, 1), ChronyErrorKind.Failed },
        { "status 2, unauthorised", request => StatusReplyTo(request, 2), ChronyErrorKind.Unauthorised },
        { "truncated to 103 bytes", request => TrackingReplyTo(request)[..103], ChronyErrorKind.BadLength },
        { "only a header", request => TrackingReplyTo(request)[..28], ChronyErrorKind.BadLength },
        { "larger than the receive buffer", request => [.. TrackingReplyTo(request), .. new byte[2000]], ChronyErrorKind.BadLength },
        { "reply type 2", request => TrackingReplyTo(request, r => { r[7] = 2; return r; }), ChronyErrorKind.InvalidReply },
        {
            "a reference time with a billion nanoseconds",
            request => TrackingReplyTo(request, r => { BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(64), 1_000_000_000); return r; }),
            ChronyErrorKind.InvalidReply
        },
    };

    [Theory]
    [MemberData(nameof(InvalidReplies))]
    public async Task An_invalid_reply_must_fail_as_chronyds_fault_and_end_the_request(string _, Func<byte[], byte[]> invalid, ChronyErrorKind kind)
    {
        var sequence = _client.SendTracking();
        var request = await RequestArrives(_chronyd, sequence);
        await _chronyd.SendAsync(invalid(request), _client.SocketPath);

        var e = Assert.Throws<ChronyException>(() => _client.TryReceiveTracking(sequence, out TrackingReply _));

        Assert.Equal(kind, e.Kind);
        Assert.Equal(_chronyd.Path, e.SocketPath);
        Assert.Contains(_chronyd.Path, e.Message);

        // The request is over: looking for its reply again is refused; a new one may start and gets its own reply.
        Assert.Throws<InvalidOperationException>(() => _client.TryReceiveTracking(sequence, out TrackingReply _));
        Assert.Equal(9, (await ExchangeWith(_chronyd)).Stratum);
    }

    [Fact]
    public async Task TryReceiveTracking_must_refuse_a_sequence_that_is_not_in_flight()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => _client.TryReceiveTracking(1234, out TrackingReply _));
        Assert.Contains("no tracking request 1234 in flight", ex.Message);

        var sequence = _client.SendTracking();
        await RequestArrives(_chronyd, sequence);
        Assert.Throws<InvalidOperationException>(() => _client.TryReceiveTracking(sequence + 1, out TrackingReply _));
        // The refusal left the request in flight and its reply untouched.
        Assert.Throws<InvalidOperationException>(() => _client.SendTracking());
        Assert.False(_client.TryReceiveTracking(sequence, out _));
    }

    [Fact]
    public async Task SendTracking_without_chronyds_socket_must_fail_as_SocketMissing_and_reach_chronyd_once_it_is_back()
    {
        var path = _chronyd.Path;
        _chronyd.Dispose(); // chronyd stopped: its socket is closed and unlinked

        for (var attempt = 0; attempt < 2; attempt++) // the failed send ended the request: the second fails the same way
        {
            var e = Assert.Throws<ChronyException>(() => _client.SendTracking());
            Assert.Equal(ChronyErrorKind.SocketMissing, e.Kind);
            Assert.Equal(path, e.SocketPath);
            Assert.Equal($"chronyd socket {path} does not exist: is chronyd running?", e.Message);
        }

        using var restarted = new FakeChronydSocket(path);
        Assert.Equal(9, (await ExchangeWith(restarted)).Stratum);
    }

    [Fact]
    public async Task SendTracking_must_reach_a_chronyd_restarted_between_two_requests()
    {
        await ExchangeWith(_chronyd);

        // A new socket at the same path: the client's socket is still connected to the old one, which is gone.
        _chronyd.Dispose();
        using var restarted = new FakeChronydSocket(_chronyd.Path);

        Assert.Equal(9, (await ExchangeWith(restarted)).Stratum);
    }

    [Fact]
    public async Task The_pair_must_throw_ObjectDisposedException_after_dispose()
    {
        var sequence = _client.SendTracking();
        await RequestArrives(_chronyd, sequence);

        _client.Dispose(); // with the request in flight

        Assert.Throws<ObjectDisposedException>(() => _client.TryReceiveTracking(sequence, out _));
        Assert.Throws<ObjectDisposedException>(() => _client.SendTracking());
    }

    /// <summary>Waits for the next request at <paramref name="chronyd"/> and checks that it is the one sent as <paramref name="sequence"/>.</summary>
    private static async Task<byte[]> RequestArrives(FakeChronydSocket chronyd, uint sequence)
    {
        var request = await chronyd.ReceiveRequestAsync();
        Assert.Equal(sequence, SequenceOf(request));
        return request;
    }

    private static uint SequenceOf(byte[] request) => BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8));

    /// <summary>One whole tracking exchange with <paramref name="chronyd"/>, which answers at once: the request is sent,
    /// arrives, is answered, and the reply must be there at the first look.</summary>
    private async Task<TrackingReply> ExchangeWith(FakeChronydSocket chronyd)
    {
        var sequence = _client.SendTracking();
        var request = await RequestArrives(chronyd, sequence);
        await chronyd.SendAsync(TrackingReplyTo(request), _client.SocketPath);
        Assert.True(_client.TryReceiveTracking(sequence, out var reply));
        return reply;
    }
}
