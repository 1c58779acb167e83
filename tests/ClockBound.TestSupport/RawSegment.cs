using System.Buffers.Binary;

namespace ClockBound.TestSupport;

/// <summary>
/// The segment decoded straight from the file's bytes at the offsets of docs/segment-format.md, independently of
/// the project's reader, as an existing client would see it. Only for checks after the writer is quiescent
/// or with the generation re-checked (see <see cref="TryRead"/>).
/// </summary>
public sealed record RawSegment(
    byte[] Magic, uint SegmentSize, ushort Version, ushort Generation,
    long AsOfSec, long AsOfNsec, long VoidAfterSec, long VoidAfterNsec,
    long BoundNsec, ulong DisruptionMarker, uint MaxDriftPpb, int ClockStatus, byte DisruptionSupport, byte[] Padding)
{
    public static readonly byte[] ExpectedMagic = [0x4E, 0x5A, 0x4D, 0x41, 0x00, 0x02, 0x42, 0x43];

    /// <summary>Reads the file and decodes it; null when it is shorter than 80 bytes or was caught mid-update
    /// (odd generation, or the generation changed between two reads of the file).</summary>
    public static RawSegment? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        byte[] first = File.ReadAllBytes(path);
        byte[] second = File.ReadAllBytes(path);
        if (first.Length < 80 || second.Length < 80) return null;
        var a = Decode(first);
        var b = Decode(second);
        if (a.Generation % 2 == 1 || a != b) return null;
        return a;
    }

    public static RawSegment Decode(ReadOnlySpan<byte> b) => new(
        b[..8].ToArray(),
        BinaryPrimitives.ReadUInt32LittleEndian(b[8..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[12..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[14..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[16..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[24..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[32..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
        BinaryPrimitives.ReadInt64LittleEndian(b[48..]),
        BinaryPrimitives.ReadUInt64LittleEndian(b[56..]),
        BinaryPrimitives.ReadUInt32LittleEndian(b[64..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[68..]),
        b[72],
        b[73..80].ToArray());

    // Records compare arrays by reference: compare the fields that matter for "unchanged between two reads".
    public bool Equals(RawSegment? other) =>
        other is not null && Generation == other.Generation && AsOfSec == other.AsOfSec && AsOfNsec == other.AsOfNsec
        && BoundNsec == other.BoundNsec && DisruptionMarker == other.DisruptionMarker && ClockStatus == other.ClockStatus
        && Magic.AsSpan().SequenceEqual(other.Magic);

    public override int GetHashCode() => HashCode.Combine(Generation, AsOfSec, AsOfNsec, BoundNsec, DisruptionMarker, ClockStatus);

    /// <summary>The wire values of clock_status.</summary>
    public const int Unknown = 0, Synchronized = 1, FreeRunning = 2, Disrupted = 3;
}
