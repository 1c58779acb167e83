using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using static ClockBound.Io.Tests.Segment.SegmentFiles;

namespace ClockBound.Io.Tests.Segment;

public sealed class SegmentReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private string SegmentPath => _dir.Combine("shm0");

    public void Dispose() => _dir.Dispose();

    private static readonly ClockErrorBound OtherRecord = SampleRecord with { BoundNanoseconds = 42, Status = ClockStatus.Synchronized };

    private static byte[] Bytes(ClockErrorBound record)
    {
        var bytes = new byte[ClockErrorBound.Size];
        record.WriteTo(bytes);
        return bytes;
    }

    public static TheoryData<string, byte[], ClockBoundErrorKind> InvalidSegments => new()
    {
        { "empty file", [], ClockBoundErrorKind.SegmentNotInitialized },
        { "shorter than the header", Header(version: 2, generation: 4)[..15], ClockBoundErrorKind.SegmentNotInitialized },
        { "bad magic", [.. Header(version: 2, generation: 4, magicHex: "4E5A4D4100024343"), .. new byte[64]], ClockBoundErrorKind.SegmentNotInitialized },
        { "version 0", SegmentBytes(version: 0, generation: 4), ClockBoundErrorKind.SegmentNotInitialized },
        { "generation 0", SegmentBytes(version: 2, generation: 0), ClockBoundErrorKind.SegmentNotInitialized },
        { "version 0 and generation 0 (fresh)", SegmentBytes(version: 0, generation: 0), ClockBoundErrorKind.SegmentNotInitialized },
        { "version 1", SegmentBytes(version: 1, generation: 4), ClockBoundErrorKind.SegmentVersionNotSupported },
        { "version 3", SegmentBytes(version: 3, generation: 4), ClockBoundErrorKind.SegmentVersionNotSupported },
        { "size field 16", SegmentBytes(version: 2, generation: 4, size: 16), ClockBoundErrorKind.SegmentMalformed },
        { "size field 79", SegmentBytes(version: 2, generation: 4, size: 79), ClockBoundErrorKind.SegmentMalformed },
        { "file of 79 bytes", SegmentBytes(version: 2, generation: 4)[..79], ClockBoundErrorKind.SegmentMalformed },
        { "header only", Header(version: 2, generation: 4), ClockBoundErrorKind.SegmentMalformed },
    };

    [Theory]
    [MemberData(nameof(InvalidSegments))]
    public void Reader_must_reject_an_invalid_segment_with_the_reference_error_kind(string name, byte[] content, ClockBoundErrorKind kind)
    {
        File.WriteAllBytes(SegmentPath, content);

        var e = Assert.Throws<ClockBoundException>(() => SegmentReader.Open(SegmentPath));

        Assert.True(kind == e.Kind, $"{name}: expected {kind}, got {e.Kind} ({e.Message})");
        Assert.Equal(SegmentPath, e.Path);
        Assert.Contains(SegmentPath, e.Message);
    }

    [Fact]
    public void Reader_must_report_a_missing_file_as_SegmentNotInitialized()
    {
        var e = Assert.Throws<ClockBoundException>(() => SegmentReader.Open(SegmentPath));
        Assert.Equal(ClockBoundErrorKind.SegmentNotInitialized, e.Kind);
        Assert.Contains(SegmentPath, e.Message);
    }

    [Fact]
    public void Reader_must_report_a_directory_as_Syscall_with_errno()
    {
        Directory.CreateDirectory(SegmentPath);
        var e = Assert.Throws<ClockBoundException>(() => SegmentReader.Open(SegmentPath));
        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(21, e.Errno); // EISDIR, from the header read
        Assert.Contains(SegmentPath, e.Message);
    }

    [Fact]
    public void Reader_must_report_a_non_directory_parent_as_Syscall_with_errno()
    {
        File.WriteAllText(_dir.Combine("file"), "");
        string path = _dir.Combine("file", "shm0");
        var e = Assert.Throws<ClockBoundException>(() => SegmentReader.Open(path));
        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(20, e.Errno); // ENOTDIR
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Reader_must_see_each_write_of_the_writer()
    {
        using var writer = SegmentWriter.Open(SegmentPath);
        writer.Write(SampleRecord);
        using var reader = SegmentReader.Open(SegmentPath);
        Assert.Equal(SampleRecord, reader.Snapshot());

        writer.Write(OtherRecord);
        Assert.Equal(OtherRecord, reader.Snapshot());
    }

    [Fact]
    public void Reader_must_reuse_the_last_snapshot_while_the_generation_is_unchanged()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 2, Bytes(SampleRecord)));
        using var reader = SegmentReader.Open(SegmentPath);
        Assert.Equal(SampleRecord, reader.Snapshot());

        Overwrite(SegmentPath, 16, Bytes(OtherRecord)); // record changed behind the seqlock's back
        Assert.Equal(SampleRecord, reader.Snapshot());

        SetGeneration(SegmentPath, 4);
        Assert.Equal(OtherRecord, reader.Snapshot());
    }

    [Fact]
    public void Reader_must_return_the_last_good_snapshot_while_the_writer_is_stuck_mid_update()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 2, Bytes(SampleRecord)));
        using var reader = SegmentReader.Open(SegmentPath);
        Assert.Equal(SampleRecord, reader.Snapshot());

        SetGeneration(SegmentPath, 3);
        Overwrite(SegmentPath, 16, Bytes(OtherRecord)[..20]); // half an update

        Assert.Equal(SampleRecord, reader.Snapshot());
    }

    [Fact]
    public void Reader_must_fail_with_SegmentNotInitialized_when_the_writer_is_stuck_and_there_is_no_good_snapshot()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 1, Bytes(SampleRecord)));
        using var reader = SegmentReader.Open(SegmentPath);

        var e = Assert.Throws<ClockBoundException>(() => reader.Snapshot());

        Assert.Equal(ClockBoundErrorKind.SegmentNotInitialized, e.Kind);
        Assert.Contains(SegmentPath, e.Message);
    }

    [Fact]
    public void Snapshot_must_not_allocate_while_the_generation_is_unchanged()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 2, Bytes(SampleRecord)));
        using var reader = SegmentReader.Open(SegmentPath);
        _ = reader.Snapshot();

        long before = GC.GetAllocatedBytesForCurrentThread();
        ClockErrorBound last = default;
        for (int i = 0; i < 10_000; i++) last = reader.Snapshot();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(SampleRecord, last);
    }
}
