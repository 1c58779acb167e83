using System.Buffers.Binary;
using ClockBound.Io.Segment;

namespace ClockBound.Io.Tests.Segment;

/// <summary>Hand-assembled segment files for tests (independent of the code under test's WriteTo).</summary>
internal static class SegmentFiles
{
    /// <summary>Magic as stored on a little-endian CPU (spec table, offset 0).</summary>
    public const string MagicHex = "4E5A4D4100024243";

    public static byte[] Hex(string hex) => Convert.FromHexString(string.Concat(hex.Where(char.IsAsciiHexDigit)));

    /// <summary>A 16-byte header; every field little-endian, offsets per the table in docs/segment-format.md.</summary>
    public static byte[] Header(ushort version, ushort generation, uint size = 80, string magicHex = MagicHex)
    {
        var header = new byte[16];
        Hex(magicHex).CopyTo(header, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), size);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(12), version);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(14), generation);
        return header;
    }

    /// <summary>Header followed by a record (zeros by default), 80 bytes.</summary>
    public static byte[] SegmentBytes(ushort version, ushort generation, byte[]? record = null, uint size = 80) =>
        [.. Header(version, generation, size), .. record ?? new byte[64]];

    /// <summary>A record whose every field is non-zero, assembled by hand from the table in docs/segment-format.md.</summary>
    public const string SampleRecordHex =
        "4433221100000000" + // 16 as_of.tv_sec      0x11223344
        "0065CD1D00000000" + // 24 as_of.tv_nsec     500_000_000
        "8033221100000000" + // 32 void_after.tv_sec 0x11223380
        "FFE0F50500000000" + // 40 void_after.tv_nsec 99_999_999
        "0807060504030201" + // 48 bound_nsec        0x0102030405060708
        "8090A0B0C0D0E0F0" + // 56 disruption_marker 0xF0E0D0C0B0A09080
        "40420F00" +         // 64 max_drift_ppb     1_000_000
        "02000000" +         // 68 clock_status      FreeRunning
        "01" +               // 72 disruption support enabled
        "00000000000000";    // 73 padding

    public static readonly ClockErrorBound SampleRecord = new(
        new Timespec(0x11223344, 500_000_000),
        new Timespec(0x11223380, 99_999_999),
        0x0102030405060708,
        0xF0E0D0C0B0A09080,
        1_000_000,
        ClockStatus.FreeRunning,
        ClockDisruptionSupportEnabled: true);

    public static void Overwrite(string path, long offset, ReadOnlySpan<byte> bytes)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(file, bytes, offset);
    }

    public static void SetGeneration(string path, ushort generation)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, generation);
        Overwrite(path, 14, bytes);
    }
}
