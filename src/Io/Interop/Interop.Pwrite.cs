using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary><c>ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)</c>.</summary>
        [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
        internal static unsafe partial nint Pwrite(SafeFileHandle fd, byte* buffer, nuint count, long offset);
    }
}
