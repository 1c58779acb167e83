using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using ClockBound.Io;

namespace ClockBound.TestSupport;

/// <summary>
/// A stand-in for chronyd's command socket, used where a real chronyd cannot be told to misbehave on cue: a real Unix
/// datagram socket bound where the daemon expects chronyd, answering each request with whatever datagrams
/// <see cref="Responder"/> returns (none, one or several: hostile, failing or good replies). Replies go to the sender's
/// own bound socket, as chronyd's do. The responder can be swapped while the daemon runs. With a reply delay (a slow
/// chronyd) the replies are sent later while further requests are served. Every request is recorded
/// (<see cref="Requests"/>). <see cref="WithStatus"/> builds one that answers like a synchronised chronyd unless told
/// to fail a given request. Dispose stops it.
/// </summary>
public sealed class ScriptedChronyd : IDisposable
{
    public const ushort Tracking = 33;
    public const ushort ResetSources = 66;
    public const ushort Burst = 3;

    /// <summary>Header of a reply (docs/chrony-protocol.md, "Replies").</summary>
    public const int ReplyHeaderSize = 28;

    /// <summary>Length of a tracking reply packet.</summary>
    public const int TrackingReplySize = 104;

    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private volatile Func<ChronyRequest, IReadOnlyList<byte[]>> _responder;
    private readonly Dictionary<ushort, int> _perCommand = new(); // touched by the serving loop only
    private int _requests;
    private int _outstanding;

    /// <param name="replyDelay">Latency of every reply (a slow chronyd); zero: replies are sent at once.</param>
    public ScriptedChronyd(string socketPath, Func<ChronyRequest, IReadOnlyList<byte[]>> responder, TimeSpan replyDelay = default)
    {
        SocketPath = socketPath;
        _responder = responder;
        ReplyDelay = replyDelay;
        _socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>
    /// One that answers tracking with a synchronised chronyd's reply (<see cref="ChronyReplies.CapturedTracking"/>) and
    /// reset sources and burst with an empty success, unless <paramref name="status"/> says otherwise.
    /// </summary>
    /// <param name="status">Status of the reply to the <c>n</c>-th (0-based) request of a command; null: no reply.
    /// Without it every request succeeds.</param>
    /// <param name="replyDelay">Latency of every reply (a slow chronyd).</param>
    public static ScriptedChronyd WithStatus(string socketPath, Func<ushort, int, ushort?>? status = null, TimeSpan replyDelay = default)
    {
        status ??= (_, _) => 0;
        return new ScriptedChronyd(socketPath, Respond, replyDelay);

        IReadOnlyList<byte[]> Respond(ChronyRequest request) => status(request.Command, request.CommandIndex) switch
        {
            null => [],
            0 when request.Command == Tracking => [ChronyReplies.CapturedTracking(request)],
            { } failed => [ChronyReplies.Status(request, failed)],
        };
    }

    public string SocketPath { get; }

    /// <summary>Decides the datagrams sent back for each request; may be replaced at any time.</summary>
    public Func<ChronyRequest, IReadOnlyList<byte[]>> Responder
    {
        get => _responder;
        set => _responder = value;
    }

    /// <summary>Requests received so far.</summary>
    public int RequestCount => Volatile.Read(ref _requests);

    /// <summary>Every request in arrival order.</summary>
    public ConcurrentQueue<ChronyRequest> Requests { get; } = new();

    /// <summary>Requests received so far for <paramref name="command"/>.</summary>
    public int CountOf(ushort command) => Requests.Count(r => r.Command == command);

    public TimeSpan ReplyDelay { get; }

    /// <summary>The most answered requests that were ever waiting for their replies at the same time.</summary>
    public int MaxOutstanding { get; private set; }

    /// <summary>CLOCK_REALTIME just before each reply datagram was sent.</summary>
    public ConcurrentQueue<Timespec> ReplySentRealtime { get; } = new();

    /// <summary>A failure in the serving loop (the responder threw), or null.</summary>
    public Exception? Error { get; private set; }

    private async Task ServeAsync()
    {
        var buffer = new byte[2048];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new UnixDomainSocketEndPoint(SocketPath), _stop.Token);
                var receivedAt = Clocks.MonotonicCoarse();
                var request = new ChronyRequest(buffer.AsSpan(0, received.ReceivedBytes).ToArray(), Interlocked.Increment(ref _requests) - 1);
                var commandIndex = _perCommand.GetValueOrDefault(request.Command);
                _perCommand[request.Command] = commandIndex + 1;
                request = request with { CommandIndex = commandIndex, ReceivedAt = receivedAt };
                Requests.Enqueue(request);
                var replies = _responder(request);
                if (replies.Count == 0)
                    continue;
                MaxOutstanding = Math.Max(MaxOutstanding, Interlocked.Increment(ref _outstanding));
                if (ReplyDelay > TimeSpan.Zero)
                    _ = ReplyAsync(replies, received.RemoteEndPoint); // later, while further requests are served
                else
                    await ReplyAsync(replies, received.RemoteEndPoint);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                Error = e;
                return;
            }
        }
    }

    private async Task ReplyAsync(IReadOnlyList<byte[]> replies, System.Net.EndPoint client)
    {
        try
        {
            if (ReplyDelay > TimeSpan.Zero) await Task.Delay(ReplyDelay, _stop.Token); // simulated server latency
            Interlocked.Decrement(ref _outstanding);
            foreach (var datagram in replies)
            {
                ReplySentRealtime.Enqueue(Clocks.Realtime());
                await _socket.SendToAsync(datagram, SocketFlags.None, client, _stop.Token);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (SocketException)
        {
            // The client closed its socket (timed out and reconnected): chronyd ignores that too.
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try { _serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        File.Delete(SocketPath);
    }
}

/// <summary>One request datagram as received, and its 0-based arrival index.</summary>
public sealed record ChronyRequest(byte[] Datagram, int Index)
{
    /// <summary>0-based index among the requests of the same command.</summary>
    public int CommandIndex { get; init; }

    /// <summary>CLOCK_MONOTONIC_COARSE when the request was received.</summary>
    public Timespec ReceivedAt { get; init; }

    public ushort Command => Datagram.Length >= 6 ? BinaryPrimitives.ReadUInt16BigEndian(Datagram.AsSpan(4)) : (ushort)0;

    public uint Sequence => Datagram.Length >= 12 ? BinaryPrimitives.ReadUInt32BigEndian(Datagram.AsSpan(8)) : 0;
}

/// <summary>Reply datagrams in chronyd's format (docs/chrony-protocol.md), for a <see cref="ScriptedChronyd"/>.</summary>
public static class ChronyReplies
{
    /// <summary>Tracking reply of a real chronyd 4.3 synchronised to 127.0.0.1 (a capture, with the fixed reference time
    /// of its day: where the daemon's staleness rule matters, use <see cref="SynchronisedTracking"/>).</summary>
    private static readonly byte[] CapturedTrackingReply = Convert.FromHexString(
        "060200000021000500000000000000007b9e2ae600000000000000007f000001" +
        "7f0000010000000000000000000000000001000000090000000000006b0818c6" +
        "008046f5e11caa26e37cb4a3e080a138fa8a0ddbf555a40afe907867e4880798" +
        "e09d726c0481c4ca");

    /// <summary>The captured tracking reply of a synchronised chronyd, its header answering <paramref name="request"/>.</summary>
    public static byte[] CapturedTracking(ChronyRequest request)
    {
        var reply = (byte[])CapturedTrackingReply.Clone();
        Header(request, replyType: 5).CopyTo(reply, 0);
        return reply;
    }

    /// <summary>A reply header answering <paramref name="request"/> (command and sequence echoed), zero body to
    /// <paramref name="length"/> bytes.</summary>
    public static byte[] Header(ChronyRequest request, ushort replyType, ushort status = 0, int length = ScriptedChronyd.ReplyHeaderSize)
    {
        var reply = new byte[length];
        reply[0] = 6; // protocol version
        reply[1] = 2; // reply packet
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(4), request.Command);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(6), replyType);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), status);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(16), request.Sequence);
        return reply;
    }

    /// <summary>The empty success reply of reset sources and burst, or a failure reply with <paramref name="status"/>.</summary>
    public static byte[] Status(ChronyRequest request, ushort status = 0) => Header(request, replyType: 1, status);

    /// <summary>
    /// A synchronised tracking reply (leap normal, reference 127.0.0.1, stratum 9, update interval 1 s) whose reference
    /// time is <paramref name="referenceAge"/> before the current CLOCK_REALTIME, so the daemon's staleness rule sees a
    /// fresh sample. The bound it yields is root delay / 2 + root dispersion + |correction| = 1.5 ms + 2 ms + 0.5 ms = 4 ms.
    /// </summary>
    public static byte[] SynchronisedTracking(ChronyRequest request, TimeSpan? referenceAge = null, ushort leap = 0)
    {
        var reply = Header(request, replyType: 5, length: ScriptedChronyd.TrackingReplySize);
        var body = reply.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(body[28..], 0x7F000001); // reference id
        BinaryPrimitives.WriteUInt32BigEndian(body[32..], 0x7F000001); // address 127.0.0.1
        BinaryPrimitives.WriteUInt16BigEndian(body[48..], 1); // IPv4
        BinaryPrimitives.WriteUInt16BigEndian(body[52..], 9); // stratum
        BinaryPrimitives.WriteUInt16BigEndian(body[54..], leap);
        var reference = DateTimeOffset.UtcNow - (referenceAge ?? TimeSpan.FromMilliseconds(100));
        long ticks = reference.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = ticks / TimeSpan.TicksPerSecond;
        BinaryPrimitives.WriteUInt32BigEndian(body[56..], (uint)(seconds >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(body[60..], (uint)seconds);
        BinaryPrimitives.WriteUInt32BigEndian(body[64..], (uint)(ticks % TimeSpan.TicksPerSecond * 100));
        BinaryPrimitives.WriteUInt32BigEndian(body[68..], EncodeFloat(0.0005)); // current correction
        BinaryPrimitives.WriteUInt32BigEndian(body[92..], EncodeFloat(0.003)); // root delay
        BinaryPrimitives.WriteUInt32BigEndian(body[96..], EncodeFloat(0.002)); // root dispersion
        BinaryPrimitives.WriteUInt32BigEndian(body[100..], EncodeFloat(1.0)); // last update interval
        return reply;
    }

    /// <summary>The bound in ns that <see cref="SynchronisedTracking"/> yields (see there), up to the float's rounding.</summary>
    public const long SynchronisedBoundNanoseconds = 4_000_000;

    /// <summary>chronyd's 32-bit float (7-bit exponent, 25-bit coefficient, value = c × 2^(e − 25)) nearest to
    /// <paramref name="value"/>, for |value| in [2^-60, 2^38).</summary>
    public static uint EncodeFloat(double value)
    {
        if (value == 0) return 0;
        // The exponent that puts |coefficient| in [2^23, 2^24): the largest a signed 25-bit field holds.
        int exponent = Math.ILogB(value) + 2;
        long coefficient = (long)Math.Round(Math.ScaleB(value, 25 - exponent));
        return ((uint)(exponent & 0x7F) << 25) | ((uint)coefficient & 0x1FFFFFF);
    }
}
