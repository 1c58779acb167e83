using System.Runtime.InteropServices;
using ClockBound.Io.VmClock;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.TestSupport;

/// <summary>
/// The VMClock structure in a memfd sealed against shrinking, opened through its /proc/self/fd path. Unlike a regular
/// file it cannot be truncated under a mapping, so <see cref="VmClockReader"/> reads it without the per-read length
/// check: the code path of the real device. The marker can still be changed (the seal forbids shrinking only).
/// </summary>
public sealed partial class SealedVmClockFile : IDisposable
{
    private const uint MFD_ALLOW_SEALING = 0x2;
    private const int F_ADD_SEALS = 1024 + 9; // F_LINUX_SPECIFIC_BASE + 9
    private const int F_SEAL_SEAL = 0x1, F_SEAL_SHRINK = 0x2;

    private readonly SafeFileHandle _memfd;

    private SealedVmClockFile(SafeFileHandle memfd, int fd)
    {
        _memfd = memfd;
        Path = $"/proc/self/fd/{fd}";
        PathForOtherProcesses = $"/proc/{Environment.ProcessId}/fd/{fd}";
    }

    /// <summary>The path readers in this process open: /proc/self/fd/N.</summary>
    public string Path { get; }

    /// <summary>The path another process (a daemon started by a test or benchmark) opens: /proc/PID/fd/N of this
    /// process, which reopens the same memfd (seals included) as long as this object is alive.</summary>
    public string PathForOtherProcesses { get; }

    public static SealedVmClockFile Create(ulong marker)
    {
        int fd = MemfdCreate("vmclock", MFD_ALLOW_SEALING);
        if (fd < 0) throw new IOException($"memfd_create: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        var memfd = new SafeFileHandle(fd, ownsHandle: true);
        var file = new SealedVmClockFile(memfd, fd);
        file.SetMarker(marker);
        if (Fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            memfd.Dispose();
            throw new IOException($"fcntl(F_ADD_SEALS): {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        return file;
    }

    /// <summary>Rewrites the whole structure (seq_count 0) with <paramref name="marker"/>.</summary>
    public void SetMarker(ulong marker)
    {
        var structure = new byte[VmClockSnapshot.Size104];
        FakeVmClock.Valid(marker).WriteTo(structure);
        RandomAccess.Write(_memfd, structure, fileOffset: 0);
    }

    public void Dispose() => _memfd.Dispose();

    [LibraryImport("libc", EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
