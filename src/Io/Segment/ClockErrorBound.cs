using System.Buffers.Binary;

namespace ClockBound.Io.Segment;

/// <summary>
/// The 64-byte "clock error bound" record of segment layout v2 (offsets 16..79 of the segment).
/// See docs/segment-format.md. Timestamps are CLOCK_MONOTONIC_COARSE, not wall-clock time.
/// Offsets below are relative to the record (segment offset − 16).
/// </summary>
public readonly record struct ClockErrorBound(
    Timespec AsOf,
    Timespec VoidAfter,
    long BoundNanoseconds,
    ulong DisruptionMarker,
    uint MaxDriftPpb,
    ClockStatus Status,
    bool ClockDisruptionSupportEnabled)
{
    /// <summary>Record size in bytes, padding included.</summary>
    public const int Size = 64;

    /// <summary>Bytes 57..63: padding, written as zeros.</summary>
    private const int PaddingOffset = 57;

    /// <summary>Parses a record. The clock status is taken as stored, even outside the defined values.</summary>
    public static ClockErrorBound ReadFrom(ReadOnlySpan<byte> source)
    {
        source = source[..Size];
        return new(
            new Timespec(BinaryPrimitives.ReadInt64LittleEndian(source), BinaryPrimitives.ReadInt64LittleEndian(source[8..])),
            new Timespec(BinaryPrimitives.ReadInt64LittleEndian(source[16..]), BinaryPrimitives.ReadInt64LittleEndian(source[24..])),
            BinaryPrimitives.ReadInt64LittleEndian(source[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[40..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[48..]),
            (ClockStatus)BinaryPrimitives.ReadInt32LittleEndian(source[52..]),
            source[56] != 0);
    }

    /// <summary>Writes all 64 bytes, padding zeroed.</summary>
    public void WriteTo(Span<byte> destination)
    {
        destination = destination[..Size];
        BinaryPrimitives.WriteInt64LittleEndian(destination, AsOf.Seconds);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], AsOf.Nanoseconds);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], VoidAfter.Seconds);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], VoidAfter.Nanoseconds);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], BoundNanoseconds);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[40..], DisruptionMarker);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[48..], MaxDriftPpb);
        BinaryPrimitives.WriteInt32LittleEndian(destination[52..], (int)Status);
        destination[56] = ClockDisruptionSupportEnabled ? (byte)1 : (byte)0;
        destination[PaddingOffset..].Clear();
    }
}
