using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int ENOENT = 2;

        /// <summary><c>int unlink(const char *path)</c>.</summary>
        [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Unlink(string path);
    }
}
