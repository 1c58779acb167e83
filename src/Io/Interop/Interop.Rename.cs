using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary><c>int rename(const char *from, const char *to)</c>: atomically replaces <paramref name="to"/>.</summary>
        [LibraryImport("libc", EntryPoint = "rename", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        internal static partial int Rename(string from, string to);
    }
}
