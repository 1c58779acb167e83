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
    /// Atomically puts a fresh segment at <paramref name="path"/>: header with version 0 and generation 0, zeros to 80 bytes,
    /// mode 0644. Written to a temporary file in the same directory, fsync'd, locked (see <see cref="Lock"/>), then renamed
    /// to the path, so no reader ever sees a half-written header and no other writer can lock the new file before us.
    /// Returns the open (read-write) handle of the new file, which holds the lock.
    /// </summary>
    /// <param name="replace">True: replace the file at the path, which the caller has locked (so no other writer can be
    /// replacing it too). False: the path was missing, and stays so for us only if no other writer creates it meanwhile:
    /// the rename then refuses to replace what is there and null is returned, for the caller to start over (a file
    /// system without RENAME_NOREPLACE falls back to a plain rename).</param>
    internal static SafeFileHandle? CreateFresh(string path, bool replace)
    {
        string directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? "/";
        CreateDirectory(path, directory);
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
            Lock(file, path);
            if (!RenameTo(temporary, path, replace))
            {
                file.Dispose();
                _ = Interop.Libc.Unlink(temporary);
                return null;
            }
            return file;
        }
        catch
        {
            file.Dispose();
            _ = Interop.Libc.Unlink(temporary);
            throw;
        }
    }

    /// <summary>Renames <paramref name="temporary"/> to <paramref name="path"/>; false when <paramref name="replace"/> is
    /// false and the path exists.</summary>
    private static bool RenameTo(string temporary, string path, bool replace)
    {
        if (!replace)
        {
            if (Interop.Libc.Renameat2(Interop.Libc.AT_FDCWD, temporary, Interop.Libc.AT_FDCWD, path, Interop.Libc.RENAME_NOREPLACE) == 0)
                return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Interop.Libc.EEXIST) return false;
            if (errno != Interop.Libc.EINVAL) throw Error("renameat2", path, errno, temporary);
        }
        if (Interop.Libc.Rename(temporary, path) != 0) throw LastError("rename", path, temporary);
        return true;
    }

    /// <summary>
    /// Takes the exclusive lock that makes a writer the only one of its file: <c>flock(LOCK_EX | LOCK_NB)</c>, held until
    /// the descriptor is closed. When another open file (another daemon, or another writer in this process) holds it,
    /// throws a <see cref="ClockBoundException"/> of kind Syscall, errno EWOULDBLOCK, whose message names the path and,
    /// when /proc/locks lists it, the holder's pid.
    /// </summary>
    internal static void Lock(SafeFileHandle file, string path)
    {
        if (Interop.Libc.Flock(file, Interop.Libc.LOCK_EX | Interop.Libc.LOCK_NB) == 0) return;
        int errno = Marshal.GetLastPInvokeError();
        if (errno != Interop.Libc.EWOULDBLOCK) throw Error("flock", path, errno);

        string holder = FlockHolder(file) switch
        {
            (int pid, Exclusive: true) => $"another clockbound (pid {pid})",
            // A shared lock is not a daemon's: .NET takes one on every file it opens for reading with FileShare other than None.
            (int pid, Exclusive: false) => $"another process (pid {pid}, a shared lock)",
            null => "another clockbound",
        };
        throw new ClockBoundException(ClockBoundErrorKind.Syscall, path,
            $"clock error bound segment {path} is locked by {holder}: only one daemon may publish a segment", errno);
    }

    /// <summary>The process that holds a flock on <paramref name="file"/>, from /proc/locks (matched on device and inode);
    /// null when it cannot be told (no /proc, the lock released meanwhile, the file cannot be stat'ed).</summary>
    private static (int Pid, bool Exclusive)? FlockHolder(SafeFileHandle file)
    {
        if (Identity(file) is not { } identity) return null;
        try
        {
            return FindFlockHolder(File.ReadLines(ProcLocks), identity);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The kernel's table of file locks, one per line.</summary>
    private const string ProcLocks = "/proc/locks";

    /// <summary>
    /// The holder of a flock on the file <paramref name="identity"/> among <paramref name="procLocks"/> lines, e.g.
    /// <c>1: FLOCK  ADVISORY  WRITE 1234 fe:00:11657443 0 EOF</c> (pid, then device major:minor in hex and the inode).
    /// Waiters (<c>1: -> FLOCK ...</c>) and other lock types are skipped.
    /// </summary>
    internal static (int Pid, bool Exclusive)? FindFlockHolder(IEnumerable<string> procLocks, FileIdentity identity)
    {
        string device = $"{identity.DeviceMajor:x2}:{identity.DeviceMinor:x2}:{identity.Inode}";
        foreach (string line in procLocks)
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is [_, "FLOCK", _, var access, var pid, var file, ..] && file == device
                && int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int holder))
                return (holder, access == "WRITE");
        }
        return null;
    }

    /// <summary>Device and inode: what tells two files apart.</summary>
    internal readonly record struct FileIdentity(uint DeviceMajor, uint DeviceMinor, ulong Inode);

    /// <summary>True when <paramref name="path"/> names the open <paramref name="file"/> (same device and inode); false when
    /// it names another file or nothing (replaced or removed since the file was opened).</summary>
    internal static bool IsAtPath(SafeFileHandle file, string path)
    {
        FileIdentity open = Identity(file) ?? throw LastError("statx", path);
        Interop.Libc.StatxBuffer named;
        byte[] pathBytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = pathBytes)
        {
            if (Interop.Libc.Statx(Interop.Libc.AT_FDCWD, p, 0, Interop.Libc.STATX_INO, &named) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Interop.Libc.ENOENT) return false;
                throw Error("statx", path, errno);
            }
        }
        return open == new FileIdentity(named.DevMajor, named.DevMinor, named.Inode);
    }

    /// <summary>The open file's device and inode (<c>fstat</c>); null when statx fails, errno left for the caller.</summary>
    private static FileIdentity? Identity(SafeFileHandle file)
    {
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            Interop.Libc.StatxBuffer status;
            byte* emptyPath = stackalloc byte[1] { 0 };
            if (Interop.Libc.Statx((int)file.DangerousGetHandle(), emptyPath, Interop.Libc.AT_EMPTY_PATH, Interop.Libc.STATX_INO, &status) != 0)
                return null;
            return new FileIdentity(status.DevMajor, status.DevMinor, status.Inode);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>Creates the segment's own directory when it is missing, as a runtime directory would be; a missing parent
    /// is refused (a mistyped <c>--shm-path</c> must not "work" in a directory no client looks at). An existing entry is
    /// left for the later open to judge.</summary>
    private static void CreateDirectory(string path, string directory)
    {
        if (Directory.Exists(directory)) return;
        string? parent = System.IO.Path.GetDirectoryName(directory);
        if (parent is not null && !Directory.Exists(parent))
            throw new ClockBoundException(ClockBoundErrorKind.Syscall, path,
                $"clock error bound segment {path}: {parent} does not exist (only the segment's own directory is created)",
                Interop.Libc.ENOENT);
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
