using System.Runtime.InteropServices;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>
/// Runs code on a dedicated thread whose effective uid/gid are nobody's, to meet real EACCES from the kernel while the
/// test process runs as root (root bypasses file permissions). Linux credentials are per thread: the raw setresuid and
/// setresgid system calls (not glibc's wrappers, which change every thread of the process) change only the calling
/// thread, and the saved uid 0 lets the thread switch back before it ends.
/// </summary>
internal static partial class ThreadCredentials
{
    public const int NobodyId = 65534;

    public static T RunAsNobody<T>(Func<T> action)
    {
        if (Environment.UserName != "root") throw new InvalidOperationException("the permission tests need to run as root");
        T? result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                SetEffective(SetResGid, NobodyId);
                SetEffective(SetResUid, NobodyId);
                try { result = action(); }
                finally
                {
                    SetEffective(SetResUid, 0);
                    SetEffective(SetResGid, 0);
                }
            }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        if (failure is not null) throw new AggregateException(failure);
        return result!;
    }

    private static long SetResUid => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 117,
        Architecture.Arm64 => 147,
        var other => throw new PlatformNotSupportedException($"setresuid syscall number unknown for {other}"),
    };

    private static long SetResGid => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 119,
        Architecture.Arm64 => 149,
        var other => throw new PlatformNotSupportedException($"setresgid syscall number unknown for {other}"),
    };

    private static void SetEffective(long call, int id)
    {
        // -1 leaves the real and saved ids alone: only the effective id (and with it the filesystem id) changes.
        if (Syscall(call, -1, id, -1) != 0)
            throw new InvalidOperationException($"syscall {call}(-1, {id}, -1) failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a, long b, long c);
}
