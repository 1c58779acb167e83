using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary><c>renameat2</c> flag: fail with EEXIST rather than replace an existing destination.</summary>
        internal const uint RENAME_NOREPLACE = 1;

        /// <summary>errno of a renameat2 flag the file system does not support.</summary>
        internal const int EINVAL = 22;

        /// <summary><c>int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)</c>
        /// (glibc 2.28). RENAME_NOREPLACE works on tmpfs, ext4, xfs and btrfs; other file systems fail with EINVAL.</summary>
        [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Renameat2(int fromDirFd, string from, int toDirFd, string to, uint flags);
    }
}
