using System.Buffers.Binary;

namespace ClockBound.Io.Chrony;

/// <summary>The 20-byte header of every chronyd request.</summary>
internal readonly record struct ChronyRequestHeader(ushort Command, uint Sequence)
{
    public const int Size = 20;

    /// <summary>Protocol version 6: chrony 2.x and later.</summary>
    public const byte ProtocolVersion = 6;

    /// <summary>Packet type 1 marks a request (2 a reply).</summary>
    public const byte PacketTypeRequest = 1;

    /// <summary>Writes the header; reserved, attempt and padding bytes are zeroed.</summary>
    public void WriteTo(Span<byte> destination)
    {
        destination[..Size].Clear();
        destination[0] = ProtocolVersion;
        destination[1] = PacketTypeRequest;
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], Command);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], Sequence);
    }
}
