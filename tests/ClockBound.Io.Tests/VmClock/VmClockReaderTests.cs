using ClockBound.Io.VmClock;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.VmClock;

public sealed class VmClockReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new("vmclock");

    public void Dispose() => _dir.Dispose();

    private string FilePath => _dir.Combine("vmclock0");

    [Fact]
    public void Read_must_return_the_structure_of_a_valid_file()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 7);
        using var reader = VmClockReader.Open(FilePath);

        VmClockSnapshot snapshot = reader.Read();

        Assert.Equal(FilePath, reader.Path);
        Assert.Equal(FakeVmClock.Valid(7), snapshot);
    }

    [Fact]
    public void Read_must_see_each_completed_update_through_the_mapping()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);

        ulong bumped = fake.BumpMarker();
        VmClockSnapshot afterBump = reader.Read();
        fake.SetMarker(0xDEAD_BEEF_0000_0001);
        VmClockSnapshot afterSet = reader.Read();

        Assert.Equal((2UL, 2U), (bumped, afterBump.SeqCount));
        Assert.Equal(2UL, afterBump.DisruptionMarker);
        Assert.Equal((0xDEAD_BEEF_0000_0001UL, 4U), (afterSet.DisruptionMarker, afterSet.SeqCount));
    }

    [Fact]
    public void Open_must_report_a_missing_file_as_Missing_naming_the_path()
    {
        var e = Assert.Throws<VmClockException>(() => VmClockReader.Open(FilePath));

        Assert.Equal(VmClockErrorKind.Missing, e.Kind);
        Assert.Equal(FilePath, e.Path);
        // The fact alone: the daemon advises --disable-clock-disruption-support, the tools --vmclock-path.
        Assert.Equal($"VMClock device {FilePath} does not exist", e.Message);
    }

    [Fact]
    public void Open_must_report_a_missing_directory_as_Missing()
    {
        string path = _dir.Combine("no-such-dir", "vmclock0");

        var e = Assert.Throws<VmClockException>(() => VmClockReader.Open(path));

        Assert.Equal(VmClockErrorKind.Missing, e.Kind);
        Assert.Contains(path, e.Message);
    }

    // The tests run as root, for whom chmod cannot make a file unreadable: this checks the translation of the
    // open error that File.OpenHandle throws for EACCES.
    [Fact]
    public void Permission_denied_on_open_must_become_PermissionDenied_naming_the_path()
    {
        var e = VmClockReader.FromOpenException("/dev/vmclock0", new UnauthorizedAccessException("denied"), isDirectory: false);

        Assert.Equal(VmClockErrorKind.PermissionDenied, e.Kind);
        // The fact alone: the daemon and the tools each add the advice that fits them.
        Assert.Equal("VMClock device /dev/vmclock0 is not readable (permission denied)", e.Message);
    }

    [Fact]
    public void Open_must_report_a_directory_as_Invalid()
    {
        var e = Assert.Throws<VmClockException>(() => VmClockReader.Open(_dir.Path));

        Assert.Equal(VmClockErrorKind.Invalid, e.Kind);
        Assert.Contains(_dir.Path, e.Message);
    }

    public static TheoryData<string, byte[], string> InvalidContents()
    {
        static byte[] Encode(VmClockSnapshot snapshot, int length = VmClockSnapshot.Size104)
        {
            byte[] bytes = new byte[VmClockSnapshot.Size104];
            snapshot.WriteTo(bytes);
            return bytes[..length];
        }
        byte[] badMagic = Encode(FakeVmClock.Valid(1));
        badMagic[0] ^= 0xFF;
        return new()
        {
            { "bad magic", badMagic, "magic 0x4B4C43A9" },
            { "version 0", Encode(FakeVmClock.Valid(1) with { Version = 0 }), "version 0" },
            { "size field 103", Encode(FakeVmClock.Valid(1) with { Size = 103 }), "103-byte structure" },
            { "file of 103 bytes", Encode(FakeVmClock.Valid(1), 103), "103 bytes long" },
            { "empty file", [], "0 bytes long" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidContents))]
    public void Open_must_reject_invalid_contents_as_Invalid_naming_path_and_value(string _, byte[] contents, string culprit)
    {
        File.WriteAllBytes(FilePath, contents);

        var e = Assert.Throws<VmClockException>(() => VmClockReader.Open(FilePath));

        Assert.Equal(VmClockErrorKind.Invalid, e.Kind);
        Assert.Contains(FilePath, e.Message);
        Assert.Contains(culprit, e.Message);
    }

    [Fact]
    public void Open_must_accept_a_larger_structure_from_a_newer_driver()
    {
        using var fake = FakeVmClock.Create(FilePath, FakeVmClock.Valid(5) with { Size = 112, Version = 2 });
        using var reader = VmClockReader.Open(FilePath);

        Assert.Equal((112U, (ushort)2, 5UL), (reader.Read().Size, reader.Read().Version, reader.Read().DisruptionMarker));
    }

    // /dev/zero is a character device that can be mapped: it takes the device path and reads as all zeros.
    [Fact]
    public void Open_must_map_a_character_device_and_validate_it()
    {
        var e = Assert.Throws<VmClockException>(() => VmClockReader.Open("/dev/zero"));

        Assert.Equal(VmClockErrorKind.Invalid, e.Kind);
        Assert.Contains("/dev/zero has magic 0x00000000", e.Message);
    }

    // /dev/null is a character device without mmap support (ENODEV).
    [Fact]
    public void Open_must_report_a_failed_mmap_as_Syscall()
    {
        var e = Assert.Throws<VmClockException>(() => VmClockReader.Open("/dev/null"));

        Assert.Equal(VmClockErrorKind.Syscall, e.Kind);
        Assert.Contains("mmap /dev/null", e.Message);
        Assert.IsType<SyscallException>(e.InnerException);
    }

    [Fact]
    public void Read_must_report_an_update_left_half_done_as_Torn_and_never_return_its_data()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);

        fake.BeginTornUpdate();
        fake.SetMarker(2);
        var e = Assert.Throws<VmClockException>(() => reader.Read());

        Assert.Equal(VmClockErrorKind.Torn, e.Kind);
        Assert.Contains(FilePath, e.Message);
        Assert.Contains("seq_count 1", e.Message);
    }

    [Fact]
    public void Read_must_return_the_new_data_once_the_torn_update_completes()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);
        fake.BeginTornUpdate();
        fake.SetMarker(2);
        Assert.Throws<VmClockException>(() => reader.Read());

        fake.EndUpdate();

        Assert.Equal((2UL, 2U), (reader.Read().DisruptionMarker, reader.Read().SeqCount));
    }

    [Fact]
    public void Open_must_succeed_while_an_update_is_in_progress()
    {
        using var fake = FakeVmClock.Create(FilePath, FakeVmClock.Valid(3) with { SeqCount = 11 });

        using var reader = VmClockReader.Open(FilePath);

        Assert.Equal(VmClockErrorKind.Torn, Assert.Throws<VmClockException>(() => reader.Read()).Kind);
    }

    [Fact]
    public void Every_snapshot_must_be_consistent_while_a_writer_updates_continuously()
    {
        const int RequiredReads = 100_000;
        using var fake = FakeVmClock.Create(FilePath, Derived(0));
        using var reader = VmClockReader.Open(FilePath);
        using var stop = new CancellationTokenSource();
        Exception? writerFailure = null;
        var writer = new Thread(() =>
        {
            try
            {
                for (ulong n = 1; !stop.IsCancellationRequested; n++)
                    fake.Update(Derived(n));
            }
            catch (Exception e) { writerFailure = e; }
        });
        writer.Start();

        int consistent = 0, torn = 0;
        var markers = new HashSet<ulong>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        try
        {
            while (consistent < RequiredReads && DateTime.UtcNow < deadline && writerFailure is null)
            {
                VmClockSnapshot snapshot;
                try { snapshot = reader.Read(); }
                catch (VmClockException e) when (e.Kind == VmClockErrorKind.Torn) { torn++; continue; }
                ulong n = snapshot.DisruptionMarker;
                if (snapshot != (Derived(n) with { SeqCount = (uint)(2 * n) }))
                    Assert.Fail($"inconsistent snapshot for marker {n}: {snapshot}");
                markers.Add(n);
                consistent++;
            }
        }
        finally
        {
            stop.Cancel();
            writer.Join();
        }

        Assert.Null(writerFailure);
        Assert.Equal(RequiredReads, consistent);
        Assert.True(markers.Count > 1, $"the writer never changed the marker during {consistent} reads ({torn} torn)");
    }

    // Every field is a different function of n, so a copy that mixes two updates cannot pass for one.
    private static VmClockSnapshot Derived(ulong n) => FakeVmClock.Valid(n) with
    {
        Flags = n * 0x9E3779B97F4A7C15,
        CounterValue = ~n,
        TimeSeconds = n << 7,
        TimeFraction = n ^ 0x5555_5555_5555_5555,
        TimeMaximumErrorNanoseconds = n + 1_000_000,
    };

    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(103)]
    public void Read_must_report_a_file_truncated_while_open_as_Invalid_instead_of_crashing(long length)
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);
        Assert.Equal(1UL, reader.Read().DisruptionMarker);

        fake.Truncate(length);
        var e = Assert.Throws<VmClockException>(() => reader.Read());

        Assert.Equal(VmClockErrorKind.Invalid, e.Kind);
        Assert.Contains($"{FilePath} is {length} bytes long", e.Message);
    }

    [Fact]
    public void Read_must_keep_working_after_the_file_is_removed()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);

        fake.Delete();
        fake.SetMarker(9);

        Assert.False(File.Exists(FilePath));
        Assert.Equal(9UL, reader.Read().DisruptionMarker);
    }

    [Fact]
    public void EnsureStillAtPath_must_pass_while_the_file_is_in_place()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);

        reader.EnsureStillAtPath();
        fake.SetMarker(2);
        reader.EnsureStillAtPath();
        Assert.Equal(2UL, reader.ReadDisruptionMarker());
    }

    [Fact]
    public void EnsureStillAtPath_must_report_a_removed_file_as_Missing_naming_the_path()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);

        fake.Delete();
        var e = Assert.Throws<VmClockException>(reader.EnsureStillAtPath);

        Assert.Equal(VmClockErrorKind.Missing, e.Kind);
        Assert.Equal($"VMClock device {FilePath} was removed while open", e.Message);
    }

    [Fact]
    public void EnsureStillAtPath_must_report_another_file_at_the_path_as_Invalid()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);

        fake.Delete();
        using var replacement = FakeVmClock.Create(FilePath, marker: 1);
        var e = Assert.Throws<VmClockException>(reader.EnsureStillAtPath);

        Assert.Equal(VmClockErrorKind.Invalid, e.Kind);
        Assert.Contains($"{FilePath} was replaced by another file", e.Message);
    }

    [Fact]
    public void Read_must_report_a_structure_overwritten_with_a_bad_magic_as_Invalid()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);

        using (var file = File.OpenHandle(FilePath, FileMode.Open, FileAccess.Write))
            RandomAccess.Write(file, new byte[4], fileOffset: 0);
        var e = Assert.Throws<VmClockException>(() => reader.Read());

        Assert.Equal(VmClockErrorKind.Invalid, e.Kind);
        Assert.Contains("magic 0x00000000", e.Message);
    }

    [Fact]
    public void Read_must_not_allocate()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        using var reader = VmClockReader.Open(FilePath);
        ulong sum = reader.Read().DisruptionMarker; // JIT and first-call allocations happen here

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            sum += reader.Read().DisruptionMarker;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1001UL, sum);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Read_after_Dispose_must_throw_ObjectDisposedException()
    {
        using var fake = FakeVmClock.Create(FilePath, marker: 1);
        var reader = VmClockReader.Open(FilePath);

        reader.Dispose();
        reader.Dispose();

        Assert.Throws<ObjectDisposedException>(() => reader.Read());
    }
}
