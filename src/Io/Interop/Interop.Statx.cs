using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>With an empty path, <c>statx</c> describes the descriptor itself (like <c>fstat</c>).</summary>
        internal const int AT_EMPTY_PATH = 0x1000;
        /// <summary>As <c>dirfd</c>: a relative path is relative to the working directory.</summary>
        internal const int AT_FDCWD = -100;
        internal const uint STATX_TYPE = 0x1;
        internal const uint STATX_INO = 0x100;
        internal const uint STATX_SIZE = 0x200;
        internal const int S_IFMT = 0xF000;
        internal const int S_IFCHR = 0x2000;
        internal const int S_IFREG = 0x8000;

        /// <summary><c>struct statx</c>: unlike <c>struct stat</c> it has the same layout on every architecture,
        /// so only the fields used here are declared, at their fixed offsets.</summary>
        [StructLayout(LayoutKind.Explicit, Size = 256)]
        internal struct StatxBuffer
        {
            [FieldOffset(28)] internal ushort Mode;
            [FieldOffset(32)] internal ulong Inode;
            [FieldOffset(40)] internal ulong Size;
            [FieldOffset(136)] internal uint DevMajor;
            [FieldOffset(140)] internal uint DevMinor;
        }

        /// <summary><c>int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)</c>.</summary>
        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
        internal static unsafe partial int Statx(int dirFd, byte* path, int flags, uint mask, StatxBuffer* buffer);
    }
}
