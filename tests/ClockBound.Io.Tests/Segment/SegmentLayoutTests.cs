using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using static ClockBound.Io.Tests.Segment.SegmentFiles;

namespace ClockBound.Io.Tests.Segment;

public sealed class SegmentLayoutTests
{
    [Fact]
    public void Writer_must_produce_the_exact_80_bytes_of_the_spec_layout()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("shm0");
        using (var writer = SegmentWriter.Open(path))
            writer.Write(SampleRecord);

        byte[] expected = Hex(
            "4E5A4D4100024243" + // 0  magic
            "50000000" +         // 8  segment size 80
            "0200" +             // 12 layout version 2
            "0200" +             // 14 generation 2 (first write of a fresh segment)
            SampleRecordHex);
        Assert.Equal(80, expected.Length);
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(File.ReadAllBytes(path)));
    }

    [Fact]
    public void Reader_must_read_every_field_of_a_hand_assembled_segment()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("shm0");
        File.WriteAllBytes(path, Hex("4E5A4D4100024243 50000000 0200 2A00" + SampleRecordHex));

        using var reader = SegmentReader.Open(path);
        var record = reader.Snapshot();

        Assert.Equal(0x11223344, record.AsOf.Seconds);
        Assert.Equal(500_000_000, record.AsOf.Nanoseconds);
        Assert.Equal(0x11223380, record.VoidAfter.Seconds);
        Assert.Equal(99_999_999, record.VoidAfter.Nanoseconds);
        Assert.Equal(0x0102030405060708, record.BoundNanoseconds);
        Assert.Equal(0xF0E0D0C0B0A09080, record.DisruptionMarker);
        Assert.Equal(1_000_000u, record.MaxDriftPpb);
        Assert.Equal(ClockStatus.FreeRunning, record.Status);
        Assert.True(record.ClockDisruptionSupportEnabled);
    }

    [Fact]
    public void Record_must_round_trip_and_zero_the_padding()
    {
        var buffer = Enumerable.Repeat((byte)0xAA, ClockErrorBound.Size).ToArray();
        SampleRecord.WriteTo(buffer);
        Assert.Equal(SampleRecordHex, Convert.ToHexString(buffer));
        Assert.Equal(SampleRecord, ClockErrorBound.ReadFrom(buffer));
    }

    [Theory]
    [InlineData("00", false)]
    [InlineData("01", true)]
    [InlineData("FF", true)]
    public void Record_must_read_any_non_zero_support_byte_as_enabled(string byte72, bool expected)
    {
        var buffer = Hex(SampleRecordHex);
        buffer[56] = Hex(byte72)[0];
        Assert.Equal(expected, ClockErrorBound.ReadFrom(buffer).ClockDisruptionSupportEnabled);
    }

    [Theory]
    [InlineData("4E5A4D4100024243 50000000 0200 0400", true)]
    [InlineData("4E5A4D4100024243 10000000 0200 0400", true)]  // size 16: the writer rule only needs the header
    [InlineData("4E5A4D4100024243 0F000000 0200 0400", false)] // size 15
    [InlineData("4E5A4D4100024244 50000000 0200 0400", false)] // magic
    [InlineData("4E5A4D4100024243 50000000 0000 0400", false)] // version 0
    [InlineData("4E5A4D4100024243 50000000 0200 0000", false)] // generation 0
    [InlineData("4E5A4D4100024243 50000000 0100 0400", false)] // version 1
    [InlineData("4E5A4D4100024243 50000000 0300 0400", false)] // version 3
    public void Header_must_apply_the_writer_validity_rule(string hex, bool valid)
    {
        var header = SegmentHeader.ReadFrom(Hex(hex));
        Assert.Equal(valid, header.IsValid);
        var buffer = new byte[SegmentHeader.Size];
        header.WriteTo(buffer);
        Assert.Equal(Hex(hex), buffer);
    }

    [Fact]
    public void Header_must_decode_the_fields_at_their_offsets()
    {
        var header = SegmentHeader.ReadFrom(Hex("4E5A4D4100024243 50000000 0200 FEFF"));
        Assert.Equal(SegmentHeader.ExpectedMagic, header.Magic);
        Assert.Equal(80u, header.SegmentSize);
        Assert.Equal((ushort)2, header.Version);
        Assert.Equal((ushort)65534, header.Generation);
    }
}
