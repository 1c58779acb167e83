using System.Buffers.Binary;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.Faults.Tests;

/// <summary>
/// What the real daemon does with whatever it finds at its segment path at start: anything that is not a valid layout-v2
/// segment is replaced by a fresh one (through a temporary file renamed over it, so readers never see a half-written
/// header); what it cannot replace (a directory, a read-only parent) is refused with exit code 1 and a message naming
/// the path. The daemon runs with -d and no chronyd: it publishes Unknown, which is all these specs need.
/// </summary>
public sealed class BadSegmentSpecs : IDisposable
{
    private const int StartupFailure = 1;
    private const int Nobody = 65534;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _dir = new("cbseg");

    public void Dispose() => _dir.Dispose();

    private string ShmPath => _dir.Combine("shm0");

    private string[] Args(string shmPath, string? chronySocket = null) =>
    [
        "-d", "--max-drift-rate", "50", "--shm-path", shmPath,
        "--chrony-socket", chronySocket ?? _dir.Combine("no-chronyd.sock"),
    ];

    public static TheoryData<string, byte[]> BadSegments()
    {
        var random = new Random(4);
        byte[] Garbage(int length) { var b = new byte[length]; random.NextBytes(b); return b; }
        return new()
        {
            { "empty file", [] },
            { "truncated (40 of 80 bytes)", Valid()[..40] },
            { "header only (16 bytes)", Valid()[..16] },
            { "wrong magic", With(Valid(), b => b[3] ^= 0xFF) },
            { "layout version 1", With(Valid(), b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(12), 1)) },
            { "layout version 3", With(Valid(), b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(12), 3)) },
            { "never written (generation 0)", With(Valid(), b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(14), 0)) },
            { "segment size 40 in the header", With(Valid(), b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), 40)) },
            { "80 bytes of garbage", Garbage(80) },
            { "4 KiB of garbage", Garbage(4096) },
        };
    }

    [Theory]
    [MemberData(nameof(BadSegments))]
    public async Task Daemon_must_replace_an_unusable_segment_with_a_fresh_one_and_publish(string what, byte[] content)
    {
        File.WriteAllBytes(ShmPath, content);
        using var oldFile = File.OpenHandle(ShmPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var oldInode = Inode(ShmPath);

        await using var daemon = DaemonProcess.Start(Args(ShmPath));
        await daemon.WaitUntilAsync(() => Published(ShmPath), Patience, $"{what}: a published segment");

        var segment = RawSegment.TryRead(ShmPath)!;
        Assert.Equal(80, new FileInfo(ShmPath).Length);
        Assert.Equal(RawSegment.ExpectedMagic, segment.Magic);
        Assert.Equal((80u, (ushort)2), (segment.SegmentSize, segment.Version));
        Assert.Equal((RawSegment.Unknown, 50_000u, (byte)0), (segment.ClockStatus, segment.MaxDriftPpb, segment.DisruptionSupport));
        // Replaced, not rewritten in place: the old file, still open here, holds exactly what it held.
        Assert.NotEqual(oldInode, Inode(ShmPath));
        Assert.Equal(content, ReadAll(oldFile));
        Assert.False(daemon.HasExited);
    }

    [Fact]
    public async Task Readers_must_see_either_the_old_file_or_a_complete_fresh_header_never_a_partial_one()
    {
        var old = With(Valid(), b => b[0] ^= 0xFF); // unusable: wrong magic
        File.WriteAllBytes(ShmPath, old);
        // A reader that mapped the old segment before the daemon started.
        using var oldFile = File.OpenHandle(ShmPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var oldMapping = ClockBound.Io.MappedRegion.Map(oldFile, ShmPath, 80, writable: false);

        // A reader that opens the path afresh, again and again, while the daemon replaces the file.
        var seen = new List<string>();
        var stop = false;
        int reads = 0;
        var reader = new Thread(() =>
        {
            var buffer = new byte[128];
            while (!Volatile.Read(ref stop))
            {
                int n;
                using (var f = File.OpenHandle(ShmPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                    n = RandomAccess.Read(f, buffer, 0);
                var bytes = buffer[..n];
                string kind = bytes.AsSpan().SequenceEqual(old) ? "old"
                    : n == 80 && FreshHeader(bytes) ? "fresh"
                    : $"partial: {Convert.ToHexString(bytes)}";
                lock (seen) if (!seen.Contains(kind)) seen.Add(kind);
                Interlocked.Increment(ref reads);
            }
        }) { IsBackground = true };
        reader.Start();
        while (Volatile.Read(ref reads) == 0) Thread.Yield();

        await using var daemon = DaemonProcess.Start(Args(ShmPath));
        await daemon.WaitUntilAsync(() => Published(ShmPath), Patience, "a published segment");
        int readsAtPublish = Volatile.Read(ref reads);
        while (Volatile.Read(ref reads) < readsAtPublish + 100) Thread.Yield();
        Volatile.Write(ref stop, true);
        reader.Join();

        Assert.Equal(["old", "fresh"], seen);
        Assert.Equal(old, oldMapping.Span.ToArray());
    }

    [Fact]
    public async Task A_directory_at_the_segment_path_must_be_refused_with_exit_code_1_naming_the_path()
    {
        Directory.CreateDirectory(ShmPath);

        await using var daemon = DaemonProcess.Start(Args(ShmPath));
        var exitCode = await daemon.WaitForExitAsync(Patience);

        Assert.Equal(StartupFailure, exitCode);
        var line = Assert.Single(daemon.Output, l => l.Contains(ShmPath) && l.Contains("Is a directory"));
        Assert.Contains("segment", line);
        Assert.True(Directory.Exists(ShmPath));
    }

    public static TheoryData<string, byte[]?> UnrepairableInReadOnlyDirectory() => new()
    {
        { "missing", null },
        { "wrong magic", With(Valid(), b => b[0] ^= 0xFF) },
    };

    [Theory]
    [MemberData(nameof(UnrepairableInReadOnlyDirectory))]
    public async Task A_segment_that_cannot_be_created_in_a_read_only_directory_must_be_refused_with_exit_code_1(string what, byte[]? content)
    {
        var (readOnly, chronySocket) = DirectoriesForNobody();
        var shmPath = Path.Combine(readOnly, "shm0");
        if (content is not null) WriteOwnedByNobody(shmPath, content);
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                                       UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        await using var daemon = DaemonProcess.StartAs(Nobody, Nobody, Args(shmPath, chronySocket));
        var exitCode = await daemon.WaitForExitAsync(Patience);

        Assert.True(StartupFailure == exitCode, $"{what}: exit code {exitCode}, output:\n{daemon.OutputText}");
        Assert.Contains(daemon.Output, l => l.Contains(shmPath) && l.Contains("Permission denied"));
        Assert.Equal(content, File.Exists(shmPath) ? File.ReadAllBytes(shmPath) : null);
        Assert.Empty(Directory.GetFiles(readOnly, ".shm0.*")); // no temporary file left behind
    }

    [Fact]
    public async Task A_valid_segment_in_a_read_only_directory_must_be_kept_and_published_to()
    {
        var (readOnly, chronySocket) = DirectoriesForNobody();
        var shmPath = Path.Combine(readOnly, "shm0");
        WriteOwnedByNobody(shmPath, Valid());
        File.SetUnixFileMode(readOnly, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var inode = Inode(shmPath);

        await using var daemon = DaemonProcess.StartAs(Nobody, Nobody, Args(shmPath, chronySocket));
        await daemon.WaitUntilAsync(() => RawSegment.TryRead(shmPath) is { Generation: > 2 }, Patience, "a write to the kept segment");

        Assert.Equal(inode, Inode(shmPath));
        Assert.Equal(RawSegment.Unknown, RawSegment.TryRead(shmPath)!.ClockStatus);
    }

    /// <summary>A layout for a daemon running as nobody: the temporary directory made traversable, a world-writable
    /// directory for its chrony client socket (chronyd itself is absent: that only logs a warning), and the directory
    /// that will hold the segment (made read-only by the caller once its content is in place).</summary>
    private (string ReadOnly, string ChronySocket) DirectoriesForNobody()
    {
        File.SetUnixFileMode(_dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                        UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var run = Directory.CreateDirectory(_dir.Combine("run")).FullName;
        File.SetUnixFileMode(run, (UnixFileMode)0b111_111_111);
        var readOnly = Directory.CreateDirectory(_dir.Combine("ro")).FullName;
        return (readOnly, Path.Combine(run, "chronyd.sock"));
    }

    private static void WriteOwnedByNobody(string path, byte[] content)
    {
        File.WriteAllBytes(path, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Chown(path, Nobody, Nobody);
    }

    /// <summary>A valid layout-v2 segment (generation 2, status Unknown), written byte by byte from shm-v2.md.</summary>
    private static byte[] Valid()
    {
        var b = new byte[80];
        RawSegment.ExpectedMagic.CopyTo(b, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), 80);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(12), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(14), 2);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(32), 1000); // void_after
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64), 50_000);
        return b;
    }

    private static byte[] With(byte[] bytes, Action<byte[]> change)
    {
        change(bytes);
        return bytes;
    }

    /// <summary>A segment with the right magic, size 80, layout version 2 and a non-zero generation (so: written by the daemon,
    /// as none of the unusable contents has all four).</summary>
    private static bool Published(string path) =>
        RawSegment.TryRead(path) is { SegmentSize: 80, Version: 2, Generation: > 0 } segment && segment.Magic.AsSpan().SequenceEqual(RawSegment.ExpectedMagic);

    /// <summary>The header a fresh segment may show: right magic and size, layout version 0 (just created) or 2.</summary>
    private static bool FreshHeader(byte[] bytes) =>
        bytes.AsSpan(0, 8).SequenceEqual(RawSegment.ExpectedMagic)
        && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)) == SegmentHeader.SegmentLength
        && BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(12)) is 0 or 2;

    private static byte[] ReadAll(SafeFileHandle file)
    {
        var bytes = new byte[RandomAccess.GetLength(file)];
        RandomAccess.Read(file, bytes, 0);
        return bytes;
    }

    private static long Inode(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path])
        { RedirectStandardOutput = true })!;
        var output = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return long.Parse(output);
    }

    private static void Chown(string path, int uid, int gid)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [$"{uid}:{gid}", path])!;
        chown.WaitForExit();
        if (chown.ExitCode != 0) throw new InvalidOperationException($"chown {uid}:{gid} {path} failed");
    }
}
