using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary><c>flock</c> operations: exclusive lock; fail with EWOULDBLOCK instead of waiting.</summary>
        internal const int LOCK_EX = 2;
        internal const int LOCK_NB = 4;

        /// <summary>errno of a LOCK_NB request on a file another open file description has locked (EAGAIN on Linux).</summary>
        internal const int EWOULDBLOCK = EAGAIN;

        /// <summary><c>int flock(int fd, int operation)</c>: an advisory lock on the open file description, released when
        /// its last descriptor is closed.</summary>
        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        internal static partial int Flock(SafeFileHandle fd, int operation);
    }
}
