using System.Buffers.Binary;
using ClockBound.Io.Segment;

namespace ClockBound.Client.Tests;

/// <summary>Open() reports the reference clients' error kinds, naming the segment.</summary>
public sealed class OpenErrorSpecs : IDisposable
{
    private readonly Segments _segments = new();

    public void Dispose() => _segments.Dispose();

    /// <summary>An 80-byte segment as a writer leaves it, with the header fields given.</summary>
    private static byte[] Segment(ulong magic = SegmentHeader.ExpectedMagic, uint size = 80, ushort version = 2, ushort generation = 2, int length = 80)
    {
        var bytes = new byte[Math.Max(length, 16)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, magic);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), size);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(12), version);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(14), generation);
        return bytes[..length];
    }

    public static TheoryData<string, byte[], ClockBoundErrorKind> InvalidSegments => new()
    {
        { "empty file", [], ClockBoundErrorKind.SegmentNotInitialized },
        { "shorter than the header", Segment(length: 10), ClockBoundErrorKind.SegmentNotInitialized },
        { "bad magic", Segment(magic: 0x1122334455667788), ClockBoundErrorKind.SegmentNotInitialized },
        { "version 0", Segment(version: 0), ClockBoundErrorKind.SegmentNotInitialized },
        { "generation 0", Segment(generation: 0), ClockBoundErrorKind.SegmentNotInitialized },
        { "version 1", Segment(version: 1), ClockBoundErrorKind.SegmentVersionNotSupported },
        { "version 3", Segment(version: 3), ClockBoundErrorKind.SegmentVersionNotSupported },
        { "segment size 16", Segment(size: 16), ClockBoundErrorKind.SegmentMalformed },
        { "file of 40 bytes", Segment(length: 40), ClockBoundErrorKind.SegmentMalformed },
    };

    [Theory]
    [MemberData(nameof(InvalidSegments))]
    public void Open_must_report_the_reference_error_kind(string name, byte[] content, ClockBoundErrorKind kind)
    {
        File.WriteAllBytes(_segments.ShmPath, content);
        var e = Assert.Throws<ClockBoundException>(() => _segments.Open());
        Assert.True(kind == e.Kind, $"{name}: expected {kind}, got {e.Kind}: {e.Message}");
        Assert.Contains(_segments.ShmPath, e.Message);
    }

    [Fact]
    public void Open_must_report_a_missing_segment_as_SegmentNotInitialized()
    {
        var e = Assert.Throws<ClockBoundException>(() => _segments.Open());
        Assert.Equal(ClockBoundErrorKind.SegmentNotInitialized, e.Kind);
        Assert.Contains(_segments.ShmPath, e.Message);
    }

    [Fact]
    public void Open_must_report_a_segment_the_writer_has_not_written_yet_as_SegmentNotInitialized()
    {
        using var writer = SegmentWriter.Open(_segments.ShmPath); // version 2, generation 0
        var e = Assert.Throws<ClockBoundException>(() => _segments.Open());
        Assert.Equal(ClockBoundErrorKind.SegmentNotInitialized, e.Kind);
    }

    [Fact]
    public void Open_must_report_a_directory_as_Syscall_with_its_errno()
    {
        Directory.CreateDirectory(_segments.ShmPath);
        var e = Assert.Throws<ClockBoundException>(() => _segments.Open());
        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.NotEqual(0, e.Errno);
        Assert.Contains(_segments.ShmPath, e.Message);
    }

    [Fact]
    public void Open_must_accept_a_segment_assembled_by_hand_at_the_spec_offsets()
    {
        var bytes = Segment();
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(16), 100);      // as_of.tv_sec
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(32), 200);      // void_after.tv_sec
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(48), 12_345);   // bound_nsec
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(64), 0);       // max_drift_ppb
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(68), 3);        // Disrupted
        File.WriteAllBytes(_segments.ShmPath, bytes);
        using var client = _segments.Open();
        var now = client.NowAt(new Io.Timespec(1_000, 0), new Io.Timespec(150, 0));
        Assert.Equal((12_345L, ClockStatus.Disrupted), (now.BoundNanoseconds, now.Status));
        Assert.Equal(_segments.ShmPath, client.ShmPath);
    }
}
