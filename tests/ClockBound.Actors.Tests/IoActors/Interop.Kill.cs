using System.Runtime.InteropServices;

namespace ClockBound.Actors.Tests.IoActors;

internal static partial class Interop
{
    internal static partial class Libc
    {
        internal const int SIGHUP = 1;
        internal const int SIGUSR1 = 10;
        internal const int SIGUSR2 = 12;

        /// <summary><c>int kill(pid_t, int)</c>: sends a real signal (tests send them to their own process).</summary>
        [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static partial int KillCore(int pid, int signal);

        internal static void Kill(int pid, int signal)
        {
            if (KillCore(pid, signal) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"kill({pid}, {signal}): {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            }
        }
    }
}
