using System.Runtime.InteropServices;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Segment;

/// <summary>
/// EACCES paths. Root bypasses permission bits through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH; Linux capabilities
/// belong to a thread, so each test runs on a dedicated thread that drops both from its effective set first.
/// </summary>
public sealed unsafe partial class SegmentPermissionTests : IDisposable
{
    private const int EACCES = 13;
    private const uint LinuxCapabilityVersion3 = 0x20080522;
    private const int CapDacOverride = 1;
    private const int CapDacReadSearch = 2;

    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        File.SetUnixFileMode(_dir.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _dir.Dispose();
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader { public uint Version; public int Pid; }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData { public uint Effective; public uint Permitted; public uint Inheritable; }

    [LibraryImport("libc", EntryPoint = "capget", SetLastError = true)]
    private static partial int CapGet(CapHeader* header, CapData* data);

    [LibraryImport("libc", EntryPoint = "capset", SetLastError = true)]
    private static partial int CapSet(CapHeader* header, CapData* data);

    /// <summary>Runs <paramref name="action"/> on a new thread without the DAC override capabilities.</summary>
    private static ClockBoundException ThrowsWithoutDacOverride(Func<IDisposable> action)
    {
        Exception? outcome = null;
        var thread = new Thread(() =>
        {
            try
            {
                var header = new CapHeader { Version = LinuxCapabilityVersion3, Pid = 0 };
                var data = stackalloc CapData[2];
                if (CapGet(&header, data) != 0) throw new InvalidOperationException($"capget: errno {Marshal.GetLastPInvokeError()}");
                data[0].Effective &= ~((1u << CapDacOverride) | (1u << CapDacReadSearch));
                if (CapSet(&header, data) != 0) throw new InvalidOperationException($"capset: errno {Marshal.GetLastPInvokeError()}");
                action().Dispose();
            }
            catch (Exception e) { outcome = e; }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)));
        return Assert.IsType<ClockBoundException>(outcome);
    }

    [Fact]
    public void Writer_must_fail_with_Syscall_EACCES_naming_the_path_for_a_read_only_file()
    {
        string path = _dir.Combine("shm0");
        File.WriteAllBytes(path, SegmentFiles.SegmentBytes(version: 2, generation: 2));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var e = ThrowsWithoutDacOverride(() => SegmentWriter.Open(path));

        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(EACCES, e.Errno);
        Assert.Contains(path, e.Message);
        Assert.Contains("Permission denied", e.Message);
    }

    [Fact]
    public void Writer_must_fail_with_Syscall_EACCES_naming_the_path_for_an_unwritable_directory()
    {
        string path = _dir.Combine("shm0");
        File.SetUnixFileMode(_dir.Path, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var e = ThrowsWithoutDacOverride(() => SegmentWriter.Open(path));

        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(EACCES, e.Errno);
        Assert.Contains(path, e.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Reader_must_fail_with_Syscall_EACCES_naming_the_path_for_an_unreadable_file()
    {
        string path = _dir.Combine("shm0");
        File.WriteAllBytes(path, SegmentFiles.SegmentBytes(version: 2, generation: 2));
        File.SetUnixFileMode(path, UnixFileMode.None);

        var e = ThrowsWithoutDacOverride(() => SegmentReader.Open(path));

        Assert.Equal(ClockBoundErrorKind.Syscall, e.Kind);
        Assert.Equal(EACCES, e.Errno);
        Assert.Contains(path, e.Message);
    }
}
