using System.Buffers.Binary;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using static ClockBound.Io.Tests.Segment.SegmentFiles;

namespace ClockBound.Io.Tests.Segment;

public sealed class SegmentWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private string SegmentPath => _dir.Combine("shm0");

    public void Dispose() => _dir.Dispose();

    private static ushort GenerationInFile(string path) => BinaryPrimitives.ReadUInt16LittleEndian(File.ReadAllBytes(path).AsSpan(14));

    private static ClockErrorBound Record(long n) =>
        new(new Timespec(n, 1), new Timespec(n + 10, 2), n * 3, (ulong)n, 15_000, ClockStatus.Synchronized, false);

    [Fact]
    public void Writer_must_create_the_segments_own_directory_when_it_is_missing()
    {
        string path = _dir.Combine("clockbound", "shm0");
        using var writer = SegmentWriter.Open(path);
        Assert.Equal(80, new FileInfo(path).Length);
    }

    [Fact]
    public void Writer_must_refuse_a_segment_whose_directory_has_no_parent_naming_the_missing_one()
    {
        string path = _dir.Combine("run", "clockbound", "shm0");

        var e = Assert.Throws<ClockBoundException>(() => SegmentWriter.Open(path));

        Assert.Equal($"clock error bound segment {path}: {_dir.Combine("run")} does not exist (only the segment's own directory is created)", e.Message);
        Assert.False(Directory.Exists(_dir.Combine("run")), "a mistyped path must not create directories");
    }

    [Fact]
    public void Writer_must_create_the_file_with_mode_0644()
    {
        using var writer = SegmentWriter.Open(SegmentPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(SegmentPath));
    }

    [Fact]
    public void Writer_must_publish_version_2_and_leave_generation_0_until_the_first_write()
    {
        using var writer = SegmentWriter.Open(SegmentPath);
        Assert.Equal((ushort)0, writer.Generation);
        Assert.Equal(SegmentBytes(version: 2, generation: 0), File.ReadAllBytes(SegmentPath));
    }

    [Fact]
    public void Writer_must_not_leave_a_temporary_file_behind()
    {
        using var writer = SegmentWriter.Open(SegmentPath);
        Assert.Equal([SegmentPath], Directory.GetFileSystemEntries(_dir.Path));
    }

    [Fact]
    public void Writer_must_advance_the_generation_by_2_per_write()
    {
        using var writer = SegmentWriter.Open(SegmentPath);
        for (int i = 1; i <= 5; i++)
        {
            writer.Write(Record(i));
            Assert.Equal((ushort)(2 * i), writer.Generation);
            Assert.Equal((ushort)(2 * i), GenerationInFile(SegmentPath));
        }
    }

    [Theory]
    [InlineData(65532, 65534)]
    [InlineData(65534, 2)]     // 65534 -> 65535 (odd) -> 0, which is stored as 2
    [InlineData(65533, 65534)] // odd left by a dead writer: kept odd, then +1
    [InlineData(65535, 2)]     // odd left by a dead writer at the top of the range
    [InlineData(7, 8)]
    public void Writer_must_continue_the_generation_of_an_existing_segment_and_never_store_0(int before, int after)
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: (ushort)before, Hex(SampleRecordHex)));
        using var writer = SegmentWriter.Open(SegmentPath);
        Assert.Equal((ushort)before, writer.Generation);

        writer.Write(Record(1));

        Assert.Equal((ushort)after, writer.Generation);
        Assert.Equal((ushort)after, GenerationInFile(SegmentPath));
        using var reader = SegmentReader.Open(SegmentPath);
        Assert.Equal(Record(1), reader.Snapshot());
    }

    [Fact]
    public void Writer_must_keep_a_valid_segment_on_warm_restart()
    {
        using (var first = SegmentWriter.Open(SegmentPath))
        {
            first.Write(Record(1));
            first.Write(Record(2));
        }
        byte[] before = File.ReadAllBytes(SegmentPath);
        using var reader = SegmentReader.Open(SegmentPath);

        using var second = SegmentWriter.Open(SegmentPath);

        Assert.Equal(before, File.ReadAllBytes(SegmentPath));
        Assert.Equal((ushort)4, second.Generation);
        Assert.Equal(Record(2), reader.Snapshot());
        // Same file, not a replacement: a reader mapped before the restart sees the new writer's updates.
        second.Write(Record(3));
        Assert.Equal((ushort)6, second.Generation);
        Assert.Equal(Record(3), reader.Snapshot());
    }

    public static TheoryData<string, byte[]> InvalidSegments => new()
    {
        { "empty", [] },
        { "header only", Header(version: 2, generation: 4) },
        { "truncated record", SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex))[..79] },
        { "wrong magic", [.. Header(version: 2, generation: 4, magicHex: "4E5A4D4100024244"), .. Hex(SampleRecordHex)] },
        { "version 0", SegmentBytes(version: 0, generation: 4, Hex(SampleRecordHex)) },
        { "generation 0", SegmentBytes(version: 2, generation: 0, Hex(SampleRecordHex)) },
        { "version 1", SegmentBytes(version: 1, generation: 4, Hex(SampleRecordHex)) },
        { "version 3", SegmentBytes(version: 3, generation: 4, Hex(SampleRecordHex)) },
        { "size field 15", SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex), size: 15) },
        { "size field 79", SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex), size: 79) },
        { "garbage", Enumerable.Range(0, 200).Select(i => (byte)(i * 37 + 11)).ToArray() },
    };

    [Theory]
    [MemberData(nameof(InvalidSegments))]
    public void Writer_must_replace_an_invalid_file_with_a_fresh_segment(string name, byte[] content)
    {
        File.WriteAllBytes(SegmentPath, content);

        using var writer = SegmentWriter.Open(SegmentPath);

        Assert.True(SegmentBytes(version: 2, generation: 0).AsSpan().SequenceEqual(File.ReadAllBytes(SegmentPath)), name);
        Assert.Equal((ushort)0, writer.Generation);
        writer.Write(Record(1));
        Assert.Equal((ushort)2, writer.Generation);
    }

    [Fact]
    public void Writer_must_replace_an_invalid_file_by_rename_not_by_rewriting_it_in_place()
    {
        byte[] old = SegmentBytes(version: 3, generation: 4, Hex(SampleRecordHex));
        File.WriteAllBytes(SegmentPath, old);
        using var oldFile = File.OpenHandle(SegmentPath); // what a process that opened the old file keeps seeing

        using var writer = SegmentWriter.Open(SegmentPath);

        var stillOld = new byte[old.Length];
        Assert.Equal(old.Length, RandomAccess.Read(oldFile, stillOld, 0));
        Assert.Equal(old, stillOld);
        Assert.Equal(SegmentBytes(version: 2, generation: 0), File.ReadAllBytes(SegmentPath));
    }

    [Fact]
    public void Writer_must_fail_with_Syscall_naming_the_path_when_a_directory_is_in_place_of_the_file()
    {
        Directory.CreateDirectory(SegmentPath);

        var e = Assert.Throws<ClockBoundException>(() => SegmentWriter.Open(SegmentPath));

        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(21, e.Errno); // EISDIR
        Assert.Equal(SegmentPath, e.Path);
        Assert.Contains(SegmentPath, e.Message);
        Assert.True(Directory.Exists(SegmentPath));
    }

    [Theory]
    [InlineData("file", "shm0")]
    [InlineData("file", "clockbound", "shm0")]
    public void Writer_must_fail_with_Syscall_naming_the_path_when_a_parent_is_a_regular_file(params string[] parts)
    {
        File.WriteAllText(_dir.Combine(parts[0]), "not a directory");
        string path = _dir.Combine(parts);

        var e = Assert.Throws<ClockBoundException>(() => SegmentWriter.Open(path));

        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(20, e.Errno); // ENOTDIR
        Assert.Contains(path, e.Message);
        Assert.Contains("Not a directory", e.Message);
    }
}
