using System.Runtime.InteropServices;
using ClockBound.Io.VmClock;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.Benchmarks;

/// <summary>Files with the VMClock layout, standing in for /dev/vmclock0 (which does not exist here).</summary>
internal static partial class VmClockFiles
{
    private const uint MFD_ALLOW_SEALING = 0x2;
    private const int F_ADD_SEALS = 1024 + 9; // F_LINUX_SPECIFIC_BASE + 9
    private const int F_SEAL_SEAL = 0x1, F_SEAL_SHRINK = 0x2;

    /// <summary>A valid VMClock structure (what the hypervisor exposes at offset 0 of the device) in a regular file. The
    /// reader checks a regular file's length (one statx) before every read, because a truncated mapping would SIGBUS.</summary>
    public static string CreateRegularFile(string path, ulong marker)
    {
        File.WriteAllBytes(path, Structure(marker));
        return path;
    }

    /// <summary>The same structure in a memfd sealed against shrinking, returned as its /proc/self/fd path. It cannot be
    /// truncated, so the reader skips the length check: the same code path as the real device.</summary>
    public static (SafeFileHandle Memfd, string Path) CreateSealedMemfd(ulong marker)
    {
        int fd = MemfdCreate("vmclock", MFD_ALLOW_SEALING);
        if (fd < 0) throw new IOException($"memfd_create: errno {Marshal.GetLastPInvokeError()}");
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        RandomAccess.Write(handle, Structure(marker), fileOffset: 0);
        if (Fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) != 0)
            throw new IOException($"fcntl(F_ADD_SEALS): errno {Marshal.GetLastPInvokeError()}");
        return (handle, $"/proc/self/fd/{fd}");
    }

    private static byte[] Structure(ulong marker)
    {
        var structure = new byte[VmClockSnapshot.Size104];
        new VmClockSnapshot(Size: VmClockSnapshot.Size104, Version: 1, SeqCount: 0, DisruptionMarker: marker, Flags: 0, ClockStatus: 2)
            .WriteTo(structure);
        return structure;
    }

    [LibraryImport("libc", EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
