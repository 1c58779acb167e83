using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary><c>int malloc_trim(size_t pad)</c> (glibc): gives the free pages of every malloc arena back to the
        /// kernel; 1 if some memory was released. It walks and locks each arena in turn (0.3 to 4 ms for the
        /// daemon's), so the GC transition is kept.</summary>
        [LibraryImport("libc", EntryPoint = "malloc_trim")]
        internal static partial int MallocTrim(nuint pad);
    }
}
