using System.Buffers.Binary;

namespace ClockBound.Io.Chrony;

/// <summary>The 28-byte header of every chronyd reply.</summary>
internal readonly record struct ChronyReplyHeader(byte Version, byte PacketType, ushort Command, ushort ReplyType, ushort Status, uint Sequence)
{
    public const int Size = 28;

    /// <summary>Packet type 2 marks a reply.</summary>
    public const byte PacketTypeReply = 2;

    /// <summary>Reads the header from a datagram of at least <see cref="Size"/> bytes.</summary>
    public static ChronyReplyHeader ReadFrom(ReadOnlySpan<byte> source) => new(
        Version: source[0],
        PacketType: source[1],
        Command: BinaryPrimitives.ReadUInt16BigEndian(source[4..]),
        ReplyType: BinaryPrimitives.ReadUInt16BigEndian(source[6..]),
        Status: BinaryPrimitives.ReadUInt16BigEndian(source[8..]),
        Sequence: BinaryPrimitives.ReadUInt32BigEndian(source[16..]));
}
