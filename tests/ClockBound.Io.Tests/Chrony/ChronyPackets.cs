using System.Buffers.Binary;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>Packets captured from a real chronyd 4.3 (the layouts are in docs/chrony-protocol.md).</summary>
internal static class ChronyPackets
{
    public const uint TrackingSequence = 0x7b9e2ae6;

    public static readonly byte[] SynchronisedTrackingReply = Hex("""
        06 02 00 00 00 21 00 05 00 00 00 00 00 00 00 00
        7b 9e 2a e6 00 00 00 00 00 00 00 00 7f 00 00 01
        7f 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00
        00 01 00 00 00 09 00 00 00 00 00 00 6b 08 18 c6
        00 80 46 f5 e1 1c aa 26 e3 7c b4 a3 e0 80 a1 38
        fa 8a 0d db f5 55 a4 0a fe 90 78 67 e4 88 07 98
        e0 9d 72 6c 04 81 c4 ca
        """);

    public const uint UnsynchronisedSequence = 0xc45bae5a;

    public static readonly byte[] UnsynchronisedTrackingReply = Hex("""
        06 02 00 00 00 21 00 05 00 00 00 00 00 00 00 00
        c4 5b ae 5a 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 00
        00 00 00 00 cc 9b 15 f0 e1 28 42 7f de cc 9d 3a
        01 63 46 85 00 00 00 00 00 00 00 00 04 80 00 00
        04 80 00 00 00 83 3e f7
        """);

    public const uint ResetSourcesSequence = 0x452501a5;

    public static readonly byte[] ResetSourcesReply = Hex("06 02 00 00 00 42 00 01 00 00 00 00 00 00 00 00 45 25 01 a5" + Zeros(8));

    public const uint BurstSequence = 0x421090c6;

    public static readonly byte[] BurstReply = Hex("06 02 00 00 00 03 00 01 00 00 00 00 00 00 00 00 42 10 90 c6" + Zeros(8));

    /// <summary>The captured synchronised reply, answering <paramref name="request"/>, changed by <paramref name="change"/>.</summary>
    public static byte[] TrackingReplyTo(byte[] request, Func<byte[], byte[]>? change = null)
    {
        var reply = (byte[])SynchronisedTrackingReply.Clone();
        request.AsSpan(8, 4).CopyTo(reply.AsSpan(16)); // echo the sequence
        return change is null ? reply : change(reply);
    }

    /// <summary>A 28-byte failure reply to <paramref name="request"/>, as chronyd sends for any refused command.</summary>
    public static byte[] StatusReplyTo(byte[] request, ushort status)
    {
        var reply = new byte[28];
        reply[0] = 6;
        reply[1] = 2;
        request.AsSpan(4, 2).CopyTo(reply.AsSpan(4)); // command
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(6), 1);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), status);
        request.AsSpan(8, 4).CopyTo(reply.AsSpan(16));
        return reply;
    }

    public static string Zeros(int count) => string.Concat(Enumerable.Repeat(" 00", count));

    public static byte[] Hex(string text) => Convert.FromHexString(string.Concat(text.Where(Uri.IsHexDigit)));
}
