using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        // Linux values (identical on x86_64 and arm64).
        internal const int O_RDONLY = 0x0;
        internal const int O_RDWR = 0x2;
        internal const int O_CREAT = 0x40;
        internal const int O_EXCL = 0x80;
        internal const int O_CLOEXEC = 0x80000;

        /// <summary><c>int open(const char *path, int flags, mode_t mode)</c>. open is variadic in C; passing the mode as
        /// a fixed argument is ABI-compatible on Linux x86_64 and arm64. Returns an invalid handle on failure.</summary>
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial SafeFileHandle Open(string path, int flags, uint mode);
    }
}
