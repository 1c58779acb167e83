using Microsoft.Win32.SafeHandles;

namespace ClockBound.Io.VmClock;

/// <summary>
/// Maps /dev/vmclock0 (or a regular file with the same layout, for tests) read-only and takes seqlock snapshots.
/// </summary>
/// <remarks>
/// Both the device and a regular file are mapped (one page at offset 0, the only mapping the driver allows), so tests
/// exercise the same seqlock code as production. A regular file can shrink while mapped, and touching a mapped page that
/// lies wholly beyond the end of the file raises SIGBUS, which would kill the process; so for a regular file every
/// <see cref="Read"/> first checks the file's length on the open descriptor (one <c>statx</c>) and reports a file shorter
/// than the structure as <see cref="VmClockErrorKind.Invalid"/>. A truncation racing with the copy that follows the
/// check is not covered; only test files can be truncated, the device cannot. Removing the file does not disturb the
/// reads (the mapping keeps the pages alive), but they no longer come from the device at <see cref="Path"/>:
/// <see cref="EnsureStillAtPath"/> tells, for a caller that checks now and then.
/// </remarks>
public sealed unsafe class VmClockReader : IDisposable
{
    /// <summary>
    /// A hypervisor rewrites the structure in well under a microsecond. This many attempts, a few spins and then
    /// yields of the CPU between them (about a millisecond in all), outlast any real update by orders of magnitude; a
    /// seq_count that is still odd or still changing after that belongs to a writer that stopped mid-update, and the
    /// caller's poll loop (every 10 ms) must not stall on it.
    /// </summary>
    internal const int MaxAttempts = 100;

    private readonly SafeFileHandle _file;
    private readonly MappedRegion _mapping;
    /// <summary>A regular file that may shrink under the mapping: every read checks its length first.</summary>
    private readonly bool _canShrink;
    /// <summary><see cref="Path"/> as the NUL-terminated bytes <c>statx</c> takes, for <see cref="EnsureStillAtPath"/>.</summary>
    private readonly byte[] _pathBytes;

    private VmClockReader(string path, SafeFileHandle file, MappedRegion mapping, bool canShrink)
    {
        Path = path;
        _pathBytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        _file = file;
        _mapping = mapping;
        _canShrink = canShrink;
    }

    /// <summary>Opens and validates (magic, version &gt; 0, size &gt;= 104). Throws <see cref="VmClockException"/> naming the path.</summary>
    public static VmClockReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        SafeFileHandle file = OpenFile(path);
        MappedRegion? mapping = null;
        try
        {
            (int mode, ulong length) = Stat(file, path);
            bool isRegularFile = (mode & Interop.Libc.S_IFMT) == Interop.Libc.S_IFREG;
            if (!isRegularFile && (mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFCHR)
                throw new VmClockException(VmClockErrorKind.Invalid, path,
                    $"VMClock device {path} is neither a character device nor a regular file");
            if (isRegularFile)
                CheckLength(path, length);

            try
            {
                mapping = MappedRegion.Map(file, path, Environment.SystemPageSize, writable: false);
            }
            catch (SyscallException e)
            {
                throw new VmClockException(VmClockErrorKind.Syscall, path, $"VMClock device {path}: {e.Message}", e);
            }

            // The header fields are constant, so no seqlock is needed to check them.
            _ = Decode(path, new ReadOnlySpan<byte>(mapping.Pointer, VmClockSnapshot.Size104));
            return new VmClockReader(path, file, mapping, isRegularFile && !IsSealedAgainstShrinking(file));
        }
        catch
        {
            mapping?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>
    /// Checks that <see cref="Path"/> still names the open file (same device and inode). Throws
    /// <see cref="VmClockException"/>: Missing when the path is gone (the device was removed while open), Invalid when
    /// it names another file now. Two <c>statx</c> calls: for an occasional check (the watcher's heartbeat), not every read.
    /// </summary>
    public void EnsureStillAtPath()
    {
        var open = StatDescriptor(_file, Path, Interop.Libc.STATX_INO);
        Interop.Libc.StatxBuffer named;
        fixed (byte* p = _pathBytes)
        {
            if (Interop.Libc.Statx(Interop.Libc.AT_FDCWD, p, 0, Interop.Libc.STATX_INO, &named) != 0)
            {
                var error = SyscallException.FromLastError("statx", Path);
                throw error.Errno == Interop.Libc.ENOENT
                    ? new VmClockException(VmClockErrorKind.Missing, Path, $"VMClock device {Path} was removed while open", error)
                    : new VmClockException(VmClockErrorKind.Syscall, Path, $"VMClock device {Path}: {error.Message}", error);
            }
        }
        if (named.Inode != open.Inode || named.DevMajor != open.DevMajor || named.DevMinor != open.DevMinor)
            throw new VmClockException(VmClockErrorKind.Invalid, Path, $"VMClock device {Path} was replaced by another file while open");
    }

    /// <summary>
    /// A consistent snapshot: seq_count even and unchanged across the copy. Throws <see cref="VmClockException"/>:
    /// Torn after <see cref="MaxAttempts"/> attempts with an odd or changing seq_count, Invalid when the structure (or
    /// a regular file's length) is no longer valid. Does not allocate unless it throws.
    /// </summary>
    public VmClockSnapshot Read()
    {
        if (_canShrink)
            CheckLength(Path, Stat(_file, Path).Length);

        byte* page = _mapping.Pointer;
        ref uint seqCount = ref *(uint*)(page + VmClockSnapshot.SeqCountOffset);
        Span<byte> copy = stackalloc byte[VmClockSnapshot.Size104];
        SpinWait spinner = default;
        uint seq = 0;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            seq = Volatile.Read(ref seqCount); // acquire: the copy cannot be read before it
            if ((seq & 1) == 0)
            {
                new ReadOnlySpan<byte>(page, VmClockSnapshot.Size104).CopyTo(copy);
                Interlocked.MemoryBarrier(); // the copy's loads complete before seq_count is read again
                if (Volatile.Read(ref seqCount) == seq)
                    return Decode(Path, copy);
            }
            spinner.SpinOnce(sleep1Threshold: -1); // spin, then yield; never sleep
        }
        throw Torn(seq);
    }

    /// <summary>
    /// The disruption marker alone, under the same seqlock and with the same errors as <see cref="Read"/>, without
    /// decoding the rest of the structure: what a client compares on every now(). The constant header (magic, version,
    /// size) was validated by <see cref="Open"/>.
    /// </summary>
    public ulong ReadDisruptionMarker()
    {
        if (_canShrink)
            CheckLength(Path, Stat(_file, Path).Length);

        byte* page = _mapping.Pointer;
        ref uint seqCount = ref *(uint*)(page + VmClockSnapshot.SeqCountOffset);
        ref ulong marker = ref *(ulong*)(page + VmClockSnapshot.DisruptionMarkerOffset);
        SpinWait spinner = default;
        uint seq = 0;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            seq = Volatile.Read(ref seqCount); // acquire: the marker cannot be read before it
            if ((seq & 1) == 0)
            {
                ulong value = marker;
                // The marker's load completes before seq_count is read again: only loads need ordering here, so a
                // read barrier suffices (free on x86, dmb ishld on arm64), unlike the full fence of a writer.
                Volatile.ReadBarrier();
                if (Volatile.Read(ref seqCount) == seq)
                    return value;
            }
            spinner.SpinOnce(sleep1Threshold: -1); // spin, then yield; never sleep
        }
        throw Torn(seq);
    }

    /// <summary>Built out of line: the interpolated message would otherwise enlarge the hot path's stack frame.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private VmClockException Torn(uint seq) => new(VmClockErrorKind.Torn, Path,
        $"VMClock device {Path}: no consistent snapshot after {MaxAttempts} attempts, seq_count {seq} stayed odd or kept changing (torn update)");

    public void Dispose()
    {
        _mapping.Dispose();
        _file.Dispose();
    }

    private static SafeFileHandle OpenFile(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FromOpenException(path, e, Directory.Exists(path));
        }
    }

    /// <summary>Turns a failed open into the error kind and a message that states what is wrong with the path. What to do
    /// about it depends on who opened it (the daemon has options the client tools do not): the caller says that.</summary>
    internal static VmClockException FromOpenException(string path, Exception e, bool isDirectory) => e switch
    {
        _ when isDirectory => new VmClockException(VmClockErrorKind.Invalid, path,
            $"VMClock device {path} is a directory", e),
        FileNotFoundException or DirectoryNotFoundException => new VmClockException(VmClockErrorKind.Missing, path,
            $"VMClock device {path} does not exist", e),
        UnauthorizedAccessException => new VmClockException(VmClockErrorKind.PermissionDenied, path,
            $"VMClock device {path} is not readable (permission denied)", e),
        _ => new VmClockException(VmClockErrorKind.Syscall, path, $"VMClock device {path} cannot be opened: {e.Message}", e),
    };

    private static (int Mode, ulong Length) Stat(SafeFileHandle file, string path)
    {
        var status = StatDescriptor(file, path, Interop.Libc.STATX_TYPE | Interop.Libc.STATX_SIZE);
        return (status.Mode, status.Size);
    }

    private static Interop.Libc.StatxBuffer StatDescriptor(SafeFileHandle file, string path, uint mask)
    {
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            Interop.Libc.StatxBuffer status;
            byte* emptyPath = stackalloc byte[1] { 0 };
            if (Interop.Libc.Statx((int)file.DangerousGetHandle(), emptyPath, Interop.Libc.AT_EMPTY_PATH, mask, &status) != 0)
            {
                var error = SyscallException.FromLastError("statx", path);
                throw new VmClockException(VmClockErrorKind.Syscall, path, $"VMClock device {path}: {error.Message}", error);
            }
            return status;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    /// <summary>True for a memfd carrying F_SEAL_SHRINK; false for any other file (fcntl fails with EINVAL).</summary>
    private static bool IsSealedAgainstShrinking(SafeFileHandle file)
    {
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            int seals = Interop.Libc.Fcntl((int)file.DangerousGetHandle(), Interop.Libc.F_GET_SEALS);
            return seals > 0 && (seals & Interop.Libc.F_SEAL_SHRINK) != 0;
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    private static void CheckLength(string path, ulong length)
    {
        if (length < VmClockSnapshot.Size104)
            throw new VmClockException(VmClockErrorKind.Invalid, path,
                $"VMClock file {path} is {length} bytes long, shorter than the {VmClockSnapshot.Size104}-byte VMClock structure");
    }

    /// <summary>Decodes a structure whose magic, version and size are valid; throws Invalid otherwise.</summary>
    private static VmClockSnapshot Decode(string path, ReadOnlySpan<byte> structure)
    {
        uint magic = VmClockSnapshot.ReadMagic(structure);
        if (magic != VmClockSnapshot.Magic)
            throw new VmClockException(VmClockErrorKind.Invalid, path,
                $"VMClock device {path} has magic 0x{magic:X8}, expected 0x{VmClockSnapshot.Magic:X8} (\"VCLK\")");
        var header = VmClockSnapshot.ReadFrom(structure);
        if (header.Version == 0)
            throw new VmClockException(VmClockErrorKind.Invalid, path, $"VMClock device {path} has version 0, which is invalid");
        if (header.Size < VmClockSnapshot.Size104)
            throw new VmClockException(VmClockErrorKind.Invalid, path,
                $"VMClock device {path} declares a {header.Size}-byte structure, shorter than the {VmClockSnapshot.Size104} bytes ClockBound reads");
        return header;
    }
}

public enum VmClockErrorKind { Missing, PermissionDenied, Invalid, Torn, Syscall }

/// <summary>A VMClock failure; <see cref="Path"/> is the device (or file) concerned.</summary>
public sealed class VmClockException(VmClockErrorKind kind, string path, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public VmClockErrorKind Kind { get; } = kind;
    public string Path { get; } = path;
}
