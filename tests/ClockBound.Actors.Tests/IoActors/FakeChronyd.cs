using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using ClockBound.Io;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>
/// A scripted stand-in for chronyd's command socket: a real Unix datagram socket bound at <see cref="SocketPath"/> that
/// answers tracking, reset-sources and burst requests with the status <see cref="Status"/> chooses (protocol of
/// shared/spec/chrony-candm.md), and records every request. Used where a real chronyd cannot be told to fail on cue.
/// </summary>
internal sealed class FakeChronyd : IDisposable
{
    public const ushort Tracking = 33;
    public const ushort ResetSources = 66;
    public const ushort Burst = 3;

    /// <summary>Tracking reply of a real chronyd 4.3 synchronised to 127.0.0.1 (spec capture); sequence patched per request.</summary>
    private static readonly byte[] SynchronisedTrackingReply = Convert.FromHexString(
        "060200000021000500000000000000007b9e2ae600000000000000007f000001" +
        "7f0000010000000000000000000000000001000000090000000000006b0818c6" +
        "008046f5e11caa26e37cb4a3e080a138fa8a0ddbf555a40afe907867e4880798" +
        "e09d726c0481c4ca");

    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<ushort, int> _counts = new();
    private readonly Task _serving;
    private int _outstanding;

    /// <param name="status">Status of the reply to the <c>n</c>-th (0-based) request of a command; null: no reply.</param>
    /// <param name="replyDelay">Latency of every reply (a slow chronyd).</param>
    public FakeChronyd(string socketPath, Func<ushort, int, ushort?>? status = null, TimeSpan replyDelay = default)
    {
        SocketPath = socketPath;
        Status = status ?? ((_, _) => 0);
        ReplyDelay = replyDelay;
        _socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        _serving = Task.Run(ServeAsync);
    }

    public string SocketPath { get; }

    public Func<ushort, int, ushort?> Status { get; }

    public TimeSpan ReplyDelay { get; }

    /// <summary>Every request in arrival order: command, CLOCK_MONOTONIC_COARSE on arrival, the raw datagram.</summary>
    public ConcurrentQueue<(ushort Command, Timespec ReceivedAt, byte[] Datagram)> Requests { get; } = new();

    /// <summary>The most requests that were ever awaiting a reply at the same time.</summary>
    public int MaxOutstanding { get; private set; }

    /// <summary>CLOCK_REALTIME just before each reply was sent.</summary>
    public ConcurrentQueue<Timespec> ReplySentRealtime { get; } = new();

    public int CountOf(ushort command) => Requests.Count(r => r.Command == command);

    private async Task ServeAsync()
    {
        var buffer = new byte[1024];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new UnixDomainSocketEndPoint(SocketPath), _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            var request = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            var command = BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(4));
            Requests.Enqueue((command, Clocks.MonotonicCoarse(), request));
            var n = _counts.AddOrUpdate(command, 0, (_, c) => c + 1);
            var status = Status(command, n);
            if (status is null) continue;

            MaxOutstanding = Math.Max(MaxOutstanding, Interlocked.Increment(ref _outstanding));
            _ = ReplyAsync(BuildReply(request, command, status.Value), received.RemoteEndPoint);
        }
    }

    private async Task ReplyAsync(byte[] reply, System.Net.EndPoint client)
    {
        try
        {
            if (ReplyDelay > TimeSpan.Zero) await Task.Delay(ReplyDelay, _stop.Token); // simulated server latency
            Interlocked.Decrement(ref _outstanding);
            ReplySentRealtime.Enqueue(Clocks.Realtime());
            await _socket.SendToAsync(reply, SocketFlags.None, client, _stop.Token);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (SocketException)
        {
            // The client closed its socket (e.g. it timed out and reconnected): chronyd ignores that too.
        }
    }

    private static byte[] BuildReply(byte[] request, ushort command, ushort status)
    {
        var reply = command == Tracking && status == 0 ? (byte[])SynchronisedTrackingReply.Clone() : new byte[28];
        reply[0] = 6; // protocol version
        reply[1] = 2; // reply packet
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(4), command);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(6), command == Tracking && status == 0 ? (ushort)5 : (ushort)1);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), status);
        request.AsSpan(8, 4).CopyTo(reply.AsSpan(16)); // sequence echoed
        return reply;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        try { _serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        File.Delete(SocketPath);
    }
}
