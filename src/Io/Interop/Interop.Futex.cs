using System.Runtime.InteropServices;

namespace ClockBound.Io;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>futex operations on a word private to this process (FUTEX_WAIT / FUTEX_WAKE | FUTEX_PRIVATE_FLAG).</summary>
        internal const int FUTEX_WAIT_PRIVATE = 0 | 128;
        internal const int FUTEX_WAKE_PRIVATE = 1 | 128;

        /// <summary>errno of a FUTEX_WAIT that ended without a wake: interrupted by a signal, the word had changed, timeout.</summary>
        internal const int EINTR = 4, EAGAIN = 11, ETIMEDOUT = 110;

        /// <summary>The futex system call's number: glibc has no wrapper for it.</summary>
        internal static long SYS_futex => RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 202,
            Architecture.Arm64 => 98,
            var other => throw new PlatformNotSupportedException($"futex: no system call number known for {other}"),
        };

        /// <summary><c>long syscall(SYS_futex, int *uaddr, int op, int val, const struct timespec *timeout, int *uaddr2, int val3)</c>.
        /// syscall is variadic in C; glibc's implementation only moves the registers, so calling it with fixed arguments is
        /// ABI-compatible on Linux x86_64 and arm64. FUTEX_WAIT blocks, so the GC transition stays.</summary>
        [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
        internal static unsafe partial long Futex(long number, int* address, int operation, int value, Timespec* timeout,
            int* address2, int value3);
    }
}
