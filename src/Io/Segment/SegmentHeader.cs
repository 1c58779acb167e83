using System.Buffers.Binary;

namespace ClockBound.Io.Segment;

/// <summary>
/// The 16-byte header of segment layout v2 (offsets 0..15): magic, segment size, layout version, generation.
/// See docs/segment-format.md. Integers are native-endian; every supported CPU (x86_64, arm64) is little-endian.
/// </summary>
public readonly record struct SegmentHeader(ulong Magic, uint SegmentSize, ushort Version, ushort Generation)
{
    /// <summary>Header size in bytes.</summary>
    public const int Size = 16;

    /// <summary>Bytes <c>4E 5A 4D 41 00 02 42 43</c> read as one little-endian u64 (the native u32 words
    /// 0x414D5A4E, 0x43420200 that every ClockBound client checks).</summary>
    public const ulong ExpectedMagic = 0x4342_0200_414D_5A4E;

    /// <summary>The only layout version this code reads and writes.</summary>
    public const ushort SupportedVersion = 2;

    /// <summary>Header plus <see cref="ClockErrorBound"/> record: the size of a layout-v2 segment.</summary>
    public const int SegmentLength = Size + ClockErrorBound.Size;

    /// <summary>Offset of the u16 layout version.</summary>
    internal const int VersionOffset = 12;

    /// <summary>Offset of the u16 generation (seqlock counter).</summary>
    internal const int GenerationOffset = 14;

    /// <summary>The writer's validity rule for keeping an existing segment (spec "Writer protocol"):
    /// magic matches, version != 0, generation != 0, version == 2, segment size >= 16.</summary>
    public bool IsValid =>
        Magic == ExpectedMagic && Version != 0 && Generation != 0 && Version == SupportedVersion && SegmentSize >= Size;

    public static SegmentHeader ReadFrom(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(source),
        BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[VersionOffset..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[GenerationOffset..]));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], SegmentSize);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[VersionOffset..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[GenerationOffset..], Generation);
    }

    /// <summary>The reader's validation (spec "Reader protocol" and "Error kinds clients report"), checked in that
    /// order. Returns null when a reader may map the segment, else the error kind and a short reason.</summary>
    internal (ClockBoundErrorKind Kind, string Reason)? Validate()
    {
        if (Magic != ExpectedMagic) return (ClockBoundErrorKind.SegmentNotInitialized, $"bad magic 0x{Magic:X16}");
        if (Version == 0) return (ClockBoundErrorKind.SegmentNotInitialized, "layout version 0 (not usable yet)");
        if (Generation == 0) return (ClockBoundErrorKind.SegmentNotInitialized, "generation 0 (never written)");
        if (Version != SupportedVersion)
            return (ClockBoundErrorKind.SegmentVersionNotSupported, $"layout version {Version}, expected {SupportedVersion}");
        if (SegmentSize < SegmentLength)
            return (ClockBoundErrorKind.SegmentMalformed, $"segment size {SegmentSize}, expected at least {SegmentLength}");
        return null;
    }
}
