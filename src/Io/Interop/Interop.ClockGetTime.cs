using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int CLOCK_REALTIME = 0;
        internal const int CLOCK_MONOTONIC_COARSE = 6;

        /// <summary><c>int clock_gettime(clockid_t, struct timespec *)</c>. A vDSO call of a few
        /// nanoseconds that never blocks, so the GC transition is suppressed.</summary>
        [LibraryImport("libc", EntryPoint = "clock_gettime")]
        [SuppressGCTransition]
        internal static unsafe partial int ClockGetTime(int clockId, Timespec* timespec);
    }
}
