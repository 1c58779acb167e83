using System.Buffers.Binary;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Faults.Tests;

/// <summary>
/// The real daemon polling a socket that answers like a broken or hostile chronyd: every bad reply is a failed poll (but
/// a leap status chrony does not define, which is a well-formed reply whose chrony status is Unknown), the daemon never
/// crashes, and no value from a bad reply is ever published. Runs with -d (the disruption input is
/// Reliable) and a 200 ms chrony timeout so that the replies that are ignored or never come cost little.
/// </summary>
public sealed class HostileChronySpecs : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new("cbhos");

    public void Dispose() => _dir.Dispose();

    private string ShmPath => _dir.Combine("shm0");

    /// <summary>Each hostile answer, by name: what the fake sends back for a request (nothing, or one datagram).</summary>
    private static readonly (string Name, Func<ChronyRequest, byte[][]> Reply)[] Hostile =
    [
        ("truncated", r => [Good(r)[..60]]),
        ("oversized", r => [[.. Good(r), .. new byte[100]]]),
        ("header only", r => [Good(r)[..28]]),
        ("wrong protocol version", r => [Change(Good(r), b => b[0] = 5)]),
        ("request packet type", r => [Change(Good(r), b => b[1] = 1)]),
        ("wrong sequence", r => [Change(Good(r), b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), r.Sequence + 1))]),
        ("wrong command", r => [Change(Good(r), b => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), 34))]),
        ("wrong reply type", r => [Change(Good(r), b => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), 6))]),
        ("failure status", r => [ChronyReplies.Status(r, 1)]),
        ("bad packet version status", r => [ChronyReplies.Status(r, 18)]),
        ("leap status 9 (chrony status Unknown)", r => [ChronyReplies.SynchronisedTracking(r, leap: 9)]),
        ("reference time in the future", r => [ChronyReplies.SynchronisedTracking(r, referenceAge: TimeSpan.FromSeconds(-30))]),
        ("negative root dispersion", r => [Change(Good(r), b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(96), ChronyReplies.EncodeFloat(-0.5)))]),
        ("random bytes", r => [RandomBytes(r.Index)]),
        ("random bytes with the right sequence", r => [Change(RandomBytes(r.Index, 104), b => BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(16), r.Sequence))]),
        ("nothing", _ => []),
    ];

    private static byte[] Good(ChronyRequest r) => ChronyReplies.SynchronisedTracking(r);

    private static IReadOnlyList<byte[]> GoodReplies(ChronyRequest r) => [Good(r)];

    /// <summary>Cycles through <see cref="Hostile"/> by request index.</summary>
    private static IReadOnlyList<byte[]> HostileReplies(ChronyRequest r) => Hostile[r.Index % Hostile.Length].Reply(r);

    [Fact]
    public async Task From_Unknown_hostile_replies_must_never_produce_Synchronized()
    {
        using var chronyd = new ScriptedChronyd(_dir.Combine("chronyd.sock"), HostileReplies);
        await using var daemon = StartDaemon(chronyd);
        await daemon.WaitUntilAsync(() => File.Exists(ShmPath) && RawSegment.TryRead(ShmPath) is { Generation: > 0 }, Patience, "a published segment");
        using var recorder = new SegmentRecorder(ShmPath);

        await daemon.WaitUntilAsync(() => chronyd.RequestCount >= 2 * Hostile.Length, Patience, "two rounds of hostile replies");

        Assert.All(recorder.States, s => Assert.Equal(ClockStatus.Unknown, s.Status));
        Assert.All(recorder.States, s => Assert.Equal(0, s.BoundNanoseconds));
        foreach (var kind in new[] { "BadLength", "BadVersion", "InvalidReply", "Failed", "BadPacketVersion", "Timeout" })
            Assert.Contains(daemon.Output, l => l.Contains($"chronyd tracking poll ({chronyd.SocketPath}): {kind}"));
        AssertNeverFailed(daemon, chronyd);

        // The same daemon, answered properly, does become Synchronized: the check above was not vacuous.
        chronyd.Responder = GoodReplies;
        await daemon.WaitUntilAsync(() => recorder.States[^1].Status == ClockStatus.Synchronized, Patience, "Synchronized on good replies");
    }

    [Fact]
    public async Task After_a_good_reply_hostile_replies_must_not_change_the_published_as_of_or_bound()
    {
        using var chronyd = new ScriptedChronyd(_dir.Combine("chronyd.sock"), GoodReplies);
        await using var daemon = StartDaemon(chronyd);
        await daemon.WaitUntilAsync(() => RawSegment.TryRead(ShmPath) is { ClockStatus: RawSegment.Synchronized }, Patience, "Synchronized");
        using var reader = SegmentReader.Open(ShmPath);
        var good = reader.Snapshot();
        Assert.InRange(good.BoundNanoseconds, ChronyReplies.SynchronisedBoundNanoseconds - 1000, ChronyReplies.SynchronisedBoundNanoseconds + 1000);

        // The poll in flight may still get a good answer; from the second hostile request on, the last good one is published.
        int hostileFrom = chronyd.RequestCount;
        chronyd.Responder = HostileReplies;
        await daemon.WaitUntilAsync(() => chronyd.RequestCount >= hostileFrom + 2, Patience, "hostile replies");
        var lastGood = reader.Snapshot();

        var statuses = new HashSet<ClockStatus>();
        int target = chronyd.RequestCount + 2 * Hostile.Length;
        await daemon.WaitUntilAsync(() =>
        {
            var now = reader.Snapshot();
            statuses.Add(now.Status);
            Assert.Equal((lastGood.AsOf, lastGood.BoundNanoseconds, lastGood.VoidAfter), (now.AsOf, now.BoundNanoseconds, now.VoidAfter));
            return chronyd.RequestCount >= target;
        }, Patience, "two rounds of hostile replies");

        Assert.DoesNotContain(ClockStatus.Synchronized, statuses);
        Assert.Contains(ClockStatus.FreeRunning, statuses); // within the 5 s restart grace of the last good as_of
        AssertNeverFailed(daemon, chronyd);

        chronyd.Responder = GoodReplies;
        await daemon.WaitUntilAsync(() => reader.Snapshot() is { Status: ClockStatus.Synchronized } s && s.AsOf > lastGood.AsOf,
            Patience, "Synchronized again with a newer as_of");
    }

    private DaemonProcess StartDaemon(ScriptedChronyd chronyd)
    {
        var config = _dir.Combine("fast-timeout.conf");
        File.WriteAllText(config, "clockbound.chrony.timeout = 200ms\n");
        return DaemonProcess.Start("-d", "--max-drift-rate", "50", "-c", config, "--shm-path", ShmPath, "--chrony-socket", chronyd.SocketPath);
    }

    /// <summary>The daemon is running, no actor failed (every bad reply was an ordinary failed poll), the fake is fine.</summary>
    private static void AssertNeverFailed(DaemonProcess daemon, ScriptedChronyd chronyd)
    {
        Assert.False(daemon.HasExited, daemon.OutputText);
        var failures = daemon.Output.Where(l => l.Contains("restart", StringComparison.OrdinalIgnoreCase) || l.Contains(" ERR ") || l.Contains(" FTL ")).ToList();
        Assert.True(failures.Count == 0, $"the daemon logged failures:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
        Assert.Null(chronyd.Error);
    }

    private static byte[] Change(byte[] bytes, Action<byte[]> change)
    {
        change(bytes);
        return bytes;
    }

    private static byte[] RandomBytes(int seed, int? length = null)
    {
        var random = new Random(seed);
        var bytes = new byte[length ?? random.Next(1, 300)];
        random.NextBytes(bytes);
        return bytes;
    }
}
