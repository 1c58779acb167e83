using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary><c>int fchmod(int fd, mode_t mode)</c>: sets the mode regardless of the process umask.</summary>
        [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
        internal static partial int Fchmod(SafeFileHandle fd, uint mode);
    }
}
