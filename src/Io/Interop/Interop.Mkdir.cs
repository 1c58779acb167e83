using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int EEXIST = 17;

        /// <summary><c>int mkdir(const char *path, mode_t mode)</c> (mode is masked by the umask).</summary>
        [LibraryImport("libc", EntryPoint = "mkdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Mkdir(string path, uint mode);
    }
}
