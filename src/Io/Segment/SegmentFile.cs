using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.Io.Segment;

/// <summary>The file operations behind <see cref="SegmentWriter"/> and <see cref="SegmentReader"/>, each failure
/// turned into a <see cref="ClockBoundException"/> of kind Syscall naming the call, the path and errno.</summary>
internal static unsafe class SegmentFile
{
    /// <summary>rw-r--r--: clients read, only the daemon writes.</summary>
    internal const uint FileMode = 0b110_100_100;

    /// <summary>rwxr-xr-x for parent directories we create (further restricted by the umask).</summary>
    private const uint DirectoryMode = 0b111_101_101;

    /// <summary>Opens <paramref name="path"/>; returns null when it does not exist (ENOENT).</summary>
    internal static SafeFileHandle? OpenExisting(string path, bool writable)
    {
        var handle = Interop.Libc.Open(path, (writable ? Interop.Libc.O_RDWR : Interop.Libc.O_RDONLY) | Interop.Libc.O_CLOEXEC, 0);
        if (!handle.IsInvalid) return handle;
        int errno = Marshal.GetLastPInvokeError();
        handle.Dispose();
        if (errno == Interop.Libc.ENOENT) return null;
        throw Error("open", path, errno);
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes from offset 0; returns the count (short at end of file).</summary>
    internal static int ReadPrefix(SafeFileHandle file, string path, Span<byte> buffer)
    {
        int total = 0;
        fixed (byte* p = buffer)
        {
            while (total < buffer.Length)
            {
                nint n = Interop.Libc.Pread(file, p + total, (nuint)(buffer.Length - total), total);
                if (n < 0) throw LastError("pread", path);
                if (n == 0) break;
                total += (int)n;
            }
        }
        return total;
    }

    /// <summary>
    /// Atomically replaces <paramref name="path"/> with a fresh segment: header with version 0 and generation 0, zeros to
    /// 80 bytes, mode 0644. Written to a temporary file in the same directory, fsync'd, then renamed over the path,
    /// so no reader ever sees a half-written header. Returns the open (read-write) handle of the new file.
    /// </summary>
    internal static SafeFileHandle CreateFresh(string path)
    {
        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? "/";
        CreateDirectories(path, directory);
        string temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        _ = Interop.Libc.Unlink(temporary); // a leftover of a crashed writer with the same pid; ENOENT is the norm

        var file = Interop.Libc.Open(temporary,
            Interop.Libc.O_RDWR | Interop.Libc.O_CREAT | Interop.Libc.O_EXCL | Interop.Libc.O_CLOEXEC, FileMode);
        if (file.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            file.Dispose();
            throw Error("open", path, errno, temporary);
        }
        try
        {
            if (Interop.Libc.Fchmod(file, FileMode) != 0) throw LastError("fchmod", path, temporary);

            Span<byte> content = stackalloc byte[SegmentHeader.SegmentLength];
            content.Clear();
            new SegmentHeader(SegmentHeader.ExpectedMagic, SegmentHeader.SegmentLength, Version: 0, Generation: 0).WriteTo(content);
            WriteAll(file, path, temporary, content);

            if (Interop.Libc.Fsync((int)file.DangerousGetHandle()) != 0) throw LastError("fsync", path, temporary);
            if (Interop.Libc.Rename(temporary, path) != 0) throw LastError("rename", path, temporary);
            return file;
        }
        catch
        {
            file.Dispose();
            _ = Interop.Libc.Unlink(temporary);
            throw;
        }
    }

    /// <summary><c>mkdir -p</c>: creates missing ancestors first; an existing entry is left for the later open to judge.</summary>
    private static void CreateDirectories(string path, string directory)
    {
        if (Directory.Exists(directory)) return;
        string? parent = System.IO.Path.GetDirectoryName(directory);
        if (parent is not null) CreateDirectories(path, parent);
        if (Interop.Libc.Mkdir(directory, DirectoryMode) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Interop.Libc.EEXIST) throw Error("mkdir", path, errno, directory);
        }
    }

    private static void WriteAll(SafeFileHandle file, string path, string temporary, ReadOnlySpan<byte> content)
    {
        int total = 0;
        fixed (byte* p = content)
        {
            while (total < content.Length)
            {
                nint n = Interop.Libc.Pwrite(file, p + total, (nuint)(content.Length - total), total);
                if (n < 0) throw LastError("pwrite", path, temporary);
                total += (int)n;
            }
        }
    }

    /// <summary>Maps the first 80 bytes; an mmap failure becomes a Syscall <see cref="ClockBoundException"/>.</summary>
    internal static MappedRegion Map(SafeFileHandle file, string path, bool writable)
    {
        try
        {
            return MappedRegion.Map(file, path, SegmentHeader.SegmentLength, writable);
        }
        catch (SyscallException e)
        {
            throw new ClockBoundException(ClockBoundErrorKind.Syscall, path, $"clock error bound segment: {e.Message}", e.Errno);
        }
    }

    private static ClockBoundException LastError(string call, string path, string? culprit = null) =>
        Error(call, path, Marshal.GetLastPInvokeError(), culprit);

    /// <summary>A Syscall error for the segment at <paramref name="path"/>; <paramref name="culprit"/> is the file the
    /// call failed on when that is not the segment itself (a parent directory, the temporary file).</summary>
    private static ClockBoundException Error(string call, string path, int errno, string? culprit = null) =>
        new(ClockBoundErrorKind.Syscall, path,
            (culprit is null ? $"clock error bound segment: {call} {path}: " : $"clock error bound segment {path}: {call} {culprit}: ")
            + $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
}
