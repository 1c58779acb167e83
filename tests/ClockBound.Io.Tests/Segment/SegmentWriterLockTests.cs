using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using static ClockBound.Io.Tests.Segment.SegmentFiles;

namespace ClockBound.Io.Tests.Segment;

/// <summary>One writer per segment: <see cref="SegmentWriter.Open"/> takes an exclusive flock on the file and holds it
/// until Dispose. Real files, real flock, and a real child process for a lock held elsewhere.</summary>
public sealed class SegmentWriterLockTests : IDisposable
{
    /// <summary>flock's EWOULDBLOCK (EAGAIN on Linux).</summary>
    private const int EWOULDBLOCK = 11;

    private readonly TempDirectory _dir = new();
    private string SegmentPath => _dir.Combine("shm0");

    public void Dispose() => _dir.Dispose();

    private static ClockBoundException AssertLockedBy(string path, int pid, Action open)
    {
        var e = Assert.Throws<ClockBoundException>(open);
        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(EWOULDBLOCK, e.Errno);
        Assert.Equal(path, e.Path);
        Assert.Equal(
            $"clock error bound segment {path} is locked by another clockbound (pid {pid}): only one daemon may publish a segment",
            e.Message);
        return e;
    }

    [Fact]
    public void A_second_writer_on_the_same_path_must_fail_naming_the_path_and_the_pid_of_the_holder()
    {
        using var first = SegmentWriter.Open(SegmentPath);

        AssertLockedBy(SegmentPath, Environment.ProcessId, () => SegmentWriter.Open(SegmentPath));
        // The failed open left the first writer's segment alone.
        first.Write(SampleRecord);
        using var reader = SegmentReader.Open(SegmentPath);
        Assert.Equal(SampleRecord, reader.Snapshot());
    }

    [Fact]
    public void A_second_writer_must_fail_on_a_segment_kept_from_a_previous_run_as_well()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex)));
        using var first = SegmentWriter.Open(SegmentPath);

        AssertLockedBy(SegmentPath, Environment.ProcessId, () => SegmentWriter.Open(SegmentPath));
    }

    [Fact]
    public void A_writer_must_hold_the_lock_until_it_is_disposed_and_no_longer()
    {
        var first = SegmentWriter.Open(SegmentPath);
        Assert.False(FlockProcess.CanBeLocked(SegmentPath));

        first.Dispose();

        Assert.True(FlockProcess.CanBeLocked(SegmentPath));
        using var second = SegmentWriter.Open(SegmentPath);
        Assert.Equal(PreviousSegmentState.NeverWritten, second.Previous.State);
    }

    [Fact]
    public void A_writer_whose_file_was_replaced_between_open_and_lock_must_end_up_holding_the_lock_on_the_file_at_the_path()
    {
        string original = _dir.Combine("original"), replacement = _dir.Combine("replacement");
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex)));
        var other = SampleRecord with { Status = ClockStatus.Synchronized, DisruptionMarker = 77 };
        var otherBytes = new byte[ClockErrorBound.Size];
        other.WriteTo(otherBytes);
        File.WriteAllBytes(replacement, SegmentBytes(version: 2, generation: 10, otherBytes));
        int calls = 0;

        // Once, after the writer opened the file and before it locks it: the file is moved away and another takes its place.
        using var writer = SegmentWriter.Open(SegmentPath, beforeLock: () =>
        {
            if (calls++ > 0) return;
            File.Move(SegmentPath, original);
            File.Move(replacement, SegmentPath);
        });

        Assert.Equal(2, calls); // started over once
        Assert.Equal(other, writer.Previous.Record);
        Assert.Equal((ushort)10, writer.Previous.Generation);
        Assert.False(FlockProcess.CanBeLocked(SegmentPath));
        Assert.True(FlockProcess.CanBeLocked(original));
        writer.Write(SampleRecord);
        using var reader = SegmentReader.Open(SegmentPath);
        Assert.Equal(SampleRecord, reader.Snapshot());
        Assert.Equal(SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex)), File.ReadAllBytes(original));
    }

    [Fact]
    public void A_writer_must_give_up_naming_the_path_when_the_file_is_replaced_every_time_it_is_opened()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex)));
        int calls = 0;

        var e = Assert.Throws<ClockBoundException>(() => SegmentWriter.Open(SegmentPath, beforeLock: () =>
        {
            calls++;
            string next = _dir.Combine($"next{calls}");
            File.Copy(SegmentPath, next);
            File.Move(next, SegmentPath, overwrite: true);
        }));

        Assert.Equal(5, calls);
        Assert.Equal(
            $"clock error bound segment {SegmentPath} was replaced by another process each of the 5 times it was opened", e.Message);
        Assert.True(FlockProcess.CanBeLocked(SegmentPath));
    }

    [Fact]
    public void A_writer_replacing_an_invalid_file_must_lock_the_fresh_one_and_leave_the_old_one_unlocked()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 3, generation: 4, Hex(SampleRecordHex)));
        // A second name for the old file, to find it once the segment path names the fresh one.
        using (var ln = System.Diagnostics.Process.Start("ln", [SegmentPath, _dir.Combine("old")]))
        {
            ln.WaitForExit();
            Assert.Equal(0, ln.ExitCode);
        }

        using var writer = SegmentWriter.Open(SegmentPath);

        Assert.Equal(PreviousSegmentState.Replaced, writer.Previous.State);
        Assert.False(FlockProcess.CanBeLocked(SegmentPath));
        Assert.True(FlockProcess.CanBeLocked(_dir.Combine("old")));
    }

    [Fact]
    public async Task A_lock_held_by_another_process_must_make_Open_fail_naming_that_process()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex)));
        using var holder = await FlockProcess.LockAsync(SegmentPath);

        AssertLockedBy(SegmentPath, holder.Pid, () => SegmentWriter.Open(SegmentPath));
        Assert.Equal(SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex)), File.ReadAllBytes(SegmentPath));

        await holder.ReleaseAsync();
        using var writer = SegmentWriter.Open(SegmentPath);
        Assert.Equal(SampleRecord, writer.Previous.Record);
    }

    [Fact]
    public async Task A_shared_lock_held_by_another_process_must_make_Open_fail_naming_that_process_as_no_daemon()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex)));
        using var holder = await FlockProcess.LockAsync(SegmentPath, exclusive: false);

        var e = Assert.Throws<ClockBoundException>(() => SegmentWriter.Open(SegmentPath));

        Assert.Equal(
            $"clock error bound segment {SegmentPath} is locked by another process (pid {holder.Pid}, a shared lock): only one daemon may publish a segment",
            e.Message);
    }

    public static TheoryData<string, string[], (int Pid, bool Exclusive)?> ProcLocksTables => new()
    {
        { "the holder", ["1: FLOCK  ADVISORY  WRITE 1234 fe:00:11657443 0 EOF"], (1234, true) },
        { "a shared holder", ["1: FLOCK  ADVISORY  READ 99 fe:00:11657443 0 EOF"], (99, false) },
        {
            "the holder after a waiter and other files",
            [
                "1: FLOCK  ADVISORY  WRITE 5 fe:00:11657444 0 EOF",
                "2: POSIX  ADVISORY  WRITE 6 fe:00:11657443 0 EOF",
                "3: -> FLOCK  ADVISORY  WRITE 7 fe:00:11657443 0 EOF",
                "3: FLOCK  ADVISORY  WRITE 8 fe:00:11657443 0 EOF",
            ],
            (8, true)
        },
        { "the same inode on another device", ["1: FLOCK  ADVISORY  WRITE 1234 fe:01:11657443 0 EOF"], null },
        { "an empty table", [], null },
    };

    [Theory]
    [MemberData(nameof(ProcLocksTables))]
    public void The_holder_of_a_flock_must_be_found_in_proc_locks_by_device_and_inode(string what, string[] lines, (int Pid, bool Exclusive)? holder)
    {
        var file = new SegmentFile.FileIdentity(DeviceMajor: 0xfe, DeviceMinor: 0, Inode: 11657443);
        Assert.True(holder == SegmentFile.FindFlockHolder(lines, file), what);
    }
}
