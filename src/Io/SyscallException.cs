using System.Runtime.InteropServices;

namespace ClockBound.Io;

/// <summary>A failed system call: which call, on which path, and errno. Components wrap it in their own typed errors.</summary>
public sealed class SyscallException(string call, string path, int errno)
    : IOException($"{call} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})")
{
    public string Call { get; } = call;
    public string Path { get; } = path;
    public int Errno { get; } = errno;

    /// <summary>Builds the exception from the errno of the last P/Invoke call (declared with SetLastError).</summary>
    internal static SyscallException FromLastError(string call, string path) => new(call, path, Marshal.GetLastPInvokeError());
}
