using System.Collections.Concurrent;
using ClockBound.Io;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>
/// A stand-in for chronyd's command socket (a <see cref="ScriptedChronyd"/>) that answers tracking, reset-sources and
/// burst requests with the status <see cref="Status"/> chooses (protocol of shared/spec/chrony-candm.md), and records
/// every request. Used where a real chronyd cannot be told to fail on cue.
/// </summary>
internal sealed class FakeChronyd : IDisposable
{
    public const ushort Tracking = ScriptedChronyd.Tracking;
    public const ushort ResetSources = ScriptedChronyd.ResetSources;
    public const ushort Burst = ScriptedChronyd.Burst;

    /// <summary>Tracking reply of a real chronyd 4.3 synchronised to 127.0.0.1 (spec capture); header patched per request.</summary>
    private static readonly byte[] SynchronisedTrackingReply = Convert.FromHexString(
        "060200000021000500000000000000007b9e2ae600000000000000007f000001" +
        "7f0000010000000000000000000000000001000000090000000000006b0818c6" +
        "008046f5e11caa26e37cb4a3e080a138fa8a0ddbf555a40afe907867e4880798" +
        "e09d726c0481c4ca");

    private readonly ScriptedChronyd _server;
    private readonly ConcurrentDictionary<ushort, int> _counts = new();

    /// <param name="status">Status of the reply to the <c>n</c>-th (0-based) request of a command; null: no reply.</param>
    /// <param name="replyDelay">Latency of every reply (a slow chronyd).</param>
    public FakeChronyd(string socketPath, Func<ushort, int, ushort?>? status = null, TimeSpan replyDelay = default)
    {
        Status = status ?? ((_, _) => 0);
        _server = new ScriptedChronyd(socketPath, Respond, replyDelay);
    }

    public string SocketPath => _server.SocketPath;

    public Func<ushort, int, ushort?> Status { get; }

    /// <summary>Every request in arrival order: command, CLOCK_MONOTONIC_COARSE on arrival, the raw datagram.</summary>
    public ConcurrentQueue<(ushort Command, Timespec ReceivedAt, byte[] Datagram)> Requests { get; } = new();

    /// <summary>The most requests that were ever awaiting a reply at the same time.</summary>
    public int MaxOutstanding => _server.MaxOutstanding;

    /// <summary>CLOCK_REALTIME just before each reply was sent.</summary>
    public ConcurrentQueue<Timespec> ReplySentRealtime => _server.ReplySentRealtime;

    public int CountOf(ushort command) => Requests.Count(r => r.Command == command);

    private IReadOnlyList<byte[]> Respond(ChronyRequest request)
    {
        Requests.Enqueue((request.Command, Clocks.MonotonicCoarse(), request.Datagram));
        var n = _counts.AddOrUpdate(request.Command, 0, (_, c) => c + 1);
        return Status(request.Command, n) is { } status ? [Reply(request, status)] : [];
    }

    /// <summary>The captured synchronised tracking reply for a successful tracking request, else an empty reply with
    /// <paramref name="status"/> (success of reset sources and burst, or a failure of any command).</summary>
    private static byte[] Reply(ChronyRequest request, ushort status)
    {
        if (request.Command != Tracking || status != 0)
            return ChronyReplies.Status(request, status);
        var reply = (byte[])SynchronisedTrackingReply.Clone();
        ChronyReplies.Header(request, replyType: 5).CopyTo(reply, 0);
        return reply;
    }

    public void Dispose() => _server.Dispose();
}
