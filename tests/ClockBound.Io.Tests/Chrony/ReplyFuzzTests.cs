using System.Buffers.Binary;
using ClockBound.Io.Bound;
using ClockBound.Io.Chrony;
using static ClockBound.Io.Tests.Chrony.ChronyPackets;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>
/// The reply path of the daemon (validation, tracking decoding, bound calculation) fed with random and mutated datagrams:
/// each must end as "stray, keep waiting", a typed <see cref="ChronyException"/>, the decoder's
/// <see cref="InvalidDataException"/> (which the client wraps as InvalidReply), or a sample whose bound is not smaller
/// than the reply's own root delay / 2 + root dispersion + |correction|. Anything else (an index out of range, an
/// overflow, a negative bound) fails with the packet in hex. Seeded, so a failure reproduces.
/// </summary>
public sealed class ReplyFuzzTests
{
    private const int Iterations = 1_000_000;
    private const string SocketPath = "/fuzz/chronyd.sock";

    /// <summary>After the captured replies' reference time (2026-11-26), so that most decoded samples get as far as the bound.</summary>
    private static readonly Timespec Now = new(1_800_000_000, 0);

    private static readonly Timespec AsOf = new(1_000, 0);

    private static readonly (byte[] Packet, ChronyCommand Command, uint Sequence)[] Seeds =
    [
        (SynchronisedTrackingReply, ChronyCommand.Tracking, TrackingSequence),
        (UnsynchronisedTrackingReply, ChronyCommand.Tracking, UnsynchronisedSequence),
        (ResetSourcesReply, ChronyCommand.ResetSources, ResetSourcesSequence),
        (BurstReply, ChronyCommand.Burst, BurstSequence),
    ];

    [Fact]
    public void Random_and_mutated_replies_must_end_in_a_typed_error_or_a_sound_sample()
    {
        var random = new Random(20261126);
        var buffer = new byte[1024];
        var outcomes = new Dictionary<string, int>();

        for (int i = 0; i < Iterations; i++)
        {
            var (length, command, sequence) = i % 4 == 0 ? RandomPacket(random, buffer) : Mutate(random, buffer);
            var packet = buffer.AsSpan(0, length);
            string outcome;
            try
            {
                outcome = Run(packet, command, sequence);
            }
            catch (Exception e) when (e is not ChronyException and not InvalidDataException)
            {
                Assert.Fail($"iteration {i}: {command.Name} reply {Convert.ToHexString(packet)} threw {e}");
                return;
            }
            catch (ChronyException e)
            {
                Assert.Equal(SocketPath, e.SocketPath);
                Assert.Contains(SocketPath, e.Message);
                outcome = $"ChronyException {e.Kind}";
            }
            catch (InvalidDataException)
            {
                outcome = "InvalidDataException";
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        // The fuzzer must reach every stage, not only bounce off the header check.
        string summary = string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}: {o.Value}"));
        foreach (var expected in new[] { "stray", "empty reply", "sample", "sample with an undefined leap status", "InvalidDataException",
                     "ChronyException BadLength", "ChronyException BadVersion", "ChronyException InvalidReply", "ChronyException Failed" })
            Assert.True(outcomes.GetValueOrDefault(expected) >= 1000, $"'{expected}' reached fewer than 1000 times: {summary}");
    }

    /// <summary>What the client does with a datagram received for a request (<see cref="ChronyClient"/>), then the poller's
    /// calculation; returns the outcome.</summary>
    private static string Run(ReadOnlySpan<byte> packet, ChronyCommand command, uint sequence)
    {
        if (!ChronyReplyValidator.IsValidReply(packet, command, sequence, SocketPath)) return "stray";
        if (command != ChronyCommand.Tracking) return "empty reply";

        var tracking = TrackingReply.ReadFrom(packet);
        var sample = ErrorBoundCalculator.Compute(tracking, AsOf, Now, socketPath: SocketPath);
        double ownBound = (tracking.RootDelay / 2 + tracking.RootDispersion + Math.Abs(tracking.CurrentCorrection)) * 1e9;
        Assert.True(sample.BoundNanoseconds >= 0 && sample.BoundNanoseconds >= ownBound * (1 - 1e-12),
            $"bound {sample.BoundNanoseconds} ns below the reply's own {ownBound} ns: {Convert.ToHexString(packet)}");
        Assert.Equal(AsOf, sample.AsOf);
        // A leap status chrony does not define is a reply like any other, whose status is Unknown.
        if (tracking.LeapStatus > LeapStatus.Unsynchronised)
        {
            Assert.Equal(ChronyClockStatus.Unknown, sample.Status);
            return "sample with an undefined leap status";
        }
        return "sample";
    }

    /// <summary>Random bytes of a random length; a third of them carry the expected command and sequence so that they
    /// get past the stray-datagram check.</summary>
    private static (int Length, ChronyCommand Command, uint Sequence) RandomPacket(Random random, byte[] buffer)
    {
        var (_, command, sequence) = Seeds[random.Next(Seeds.Length)];
        int length = random.Next(3) == 0 ? command.ReplyLength : random.Next(buffer.Length + 1);
        random.NextBytes(buffer.AsSpan(0, length));
        if (length >= ChronyReplyHeader.Size && random.Next(3) == 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(4), command.Code);
            BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(16), sequence);
        }
        return (length, command, sequence);
    }

    /// <summary>A captured reply with a few random changes: bytes overwritten (biased to the header and the decoded
    /// fields), a status, a length cut or extended.</summary>
    private static (int Length, ChronyCommand Command, uint Sequence) Mutate(Random random, byte[] buffer)
    {
        var (seed, command, sequence) = Seeds[random.Next(Seeds.Length)];
        seed.CopyTo(buffer, 0);
        int length = seed.Length;

        int changes = random.Next(4);
        for (int c = 0; c < changes; c++)
        {
            switch (random.Next(6))
            {
                case 0: // any byte
                    buffer[random.Next(length)] = (byte)random.Next(256);
                    break;
                case 1: // version, packet type or reply type
                    buffer[random.Next(2) == 0 ? random.Next(2) : 6 + random.Next(2)] = (byte)random.Next(8);
                    break;
                case 2: // status, mostly the ones chronyd sends
                    BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(8), (ushort)(random.Next(4) == 0 ? random.Next(65536) : random.Next(22)));
                    break;
                case 3 when length >= TrackingReply.PacketSize: // leap status, reference time, one float of the body
                    int offset = random.Next(3) switch { 0 => 54, 1 => 56 + 4 * random.Next(3), _ => 68 + 4 * random.Next(9) };
                    BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(offset), (uint)random.NextInt64(1L << 32));
                    break;
                case 4: // truncated
                    length = random.Next(length);
                    break;
                case 5: // oversized, random tail
                    int extended = Math.Min(buffer.Length, length + 1 + random.Next(200));
                    random.NextBytes(buffer.AsSpan(length, extended - length));
                    length = extended;
                    break;
            }
        }
        return (length, command, sequence);
    }
}
