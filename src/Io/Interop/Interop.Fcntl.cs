using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary><c>fcntl</c> command: the seals of a memfd (or other shmem file); EINVAL for files that cannot be sealed.</summary>
        internal const int F_GET_SEALS = 1024 + 10; // F_LINUX_SPECIFIC_BASE + 10

        /// <summary>Seal: the file can no longer shrink.</summary>
        internal const int F_SEAL_SHRINK = 0x0002;

        /// <summary><c>int fcntl(int fd, int cmd)</c> for commands without an argument. fcntl is variadic in C; calling it
        /// with the fixed arguments only is ABI-compatible on Linux x86_64 and arm64.</summary>
        [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
        internal static partial int Fcntl(int fd, int command);
    }
}
