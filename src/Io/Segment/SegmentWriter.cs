namespace ClockBound.Io.Segment;

/// <summary>
/// The only writer of a segment file: creates or reuses it (warm restart), maps it MAP_SHARED and
/// publishes records under the generation seqlock. Not thread-safe: one owner.
/// </summary>
public sealed unsafe class SegmentWriter : IDisposable
{
    /// <summary>How many times <see cref="Open"/> starts over when the file at the path was replaced (or created) by someone
    /// else between its open and its lock. Each retry needs another such replacement within microseconds, so a handful
    /// only runs out when something replaces the file continuously.</summary>
    private const int MaxOpenAttempts = 5;

    /// <summary>How many times the previous record is copied while its generation keeps changing. With the file locked no
    /// locking writer is active; a copy only tears under a writer that does not lock (an older daemon), and then the
    /// first copies tell it as well as more would.</summary>
    private const int MaxPreviousCopies = 3;

    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    private readonly MappedRegion _region;

    private SegmentWriter(string path, Microsoft.Win32.SafeHandles.SafeFileHandle file, MappedRegion region, PreviousSegment previous)
    {
        Path = path;
        _file = file;
        _region = region;
        Previous = previous;
    }

    /// <summary>Opens (or creates) the segment at <paramref name="path"/> and locks it for this writer's lifetime. Throws
    /// <see cref="ClockBoundException"/> of kind Syscall, its message naming the path: when the file or its directory
    /// cannot be created, locked or mapped; when another writer holds the lock (errno EWOULDBLOCK, the message names the
    /// holder's pid when /proc/locks has it); when the file keeps being replaced while it is opened (errno 0).</summary>
    /// <remarks>The exclusive <c>flock</c> makes two daemons on one segment impossible: it is taken before the file is read
    /// (a fresh file is locked before it is renamed to the path), and after it the path is checked to still name the
    /// locked file, starting over if it was replaced meanwhile. It is released by <see cref="Dispose"/>.
    /// A valid layout-v2 segment of at least 80 bytes (header and file) is kept as is, record and generation included,
    /// so clients keep reading across a daemon restart. Anything else is atomically replaced by a fresh segment
    /// (version 0, generation 0, zeros). What the file held before is in <see cref="Previous"/>. The layout version is
    /// then set to 2; the generation stays as found (0 for a fresh segment) until the first <see cref="Write"/>.</remarks>
    public static SegmentWriter Open(string path) => Open(path, beforeLock: null);

    /// <summary><see cref="Open(string)"/>, calling <paramref name="beforeLock"/> between opening an existing file and
    /// locking it: lets a test replace the file at that moment.</summary>
    internal static SegmentWriter Open(string path, Action? beforeLock)
    {
        for (int attempt = 1; ; attempt++)
        {
            if (TryOpen(path, beforeLock) is { } writer) return writer;
            if (attempt == MaxOpenAttempts)
                throw new ClockBoundException(ClockBoundErrorKind.Syscall, path,
                    $"clock error bound segment {path} was replaced by another process each of the {MaxOpenAttempts} times it was opened");
        }
    }

    /// <summary>One attempt of <see cref="Open(string, Action?)"/>; null when the path was replaced or created by someone
    /// else meanwhile.</summary>
    private static SegmentWriter? TryOpen(string path, Action? beforeLock)
    {
        var existing = SegmentFile.OpenExisting(path, writable: true);
        if (existing is null)
            return SegmentFile.CreateFresh(path, replace: false) is { } created ? Map(path, created, PreviousSegment.NoSegment) : null;
        try
        {
            beforeLock?.Invoke();
            SegmentFile.Lock(existing, path);
            if (!SegmentFile.IsAtPath(existing, path)) return null;

            Span<byte> content = stackalloc byte[SegmentHeader.SegmentLength];
            int length = SegmentFile.ReadPrefix(existing, path, content);
            if (Unusable(content[..length]) is { } previous)
            {
                // The old file stays locked until the fresh one has replaced it: no other writer can take it meanwhile.
                var fresh = SegmentFile.CreateFresh(path, replace: true)!;
                return Map(path, fresh, previous);
            }
            var file = existing;
            existing = null; // the writer owns it now
            return Map(path, file, previous: null);
        }
        finally
        {
            existing?.Dispose();
        }
    }

    /// <summary>Why the file, whose first bytes are <paramref name="prefix"/>, cannot be kept (the spec's writer rule, and
    /// long enough, header field and file, for our 80-byte mapping: mapping past the end of the file would fault on
    /// access); null when it can.</summary>
    private static PreviousSegment? Unusable(ReadOnlySpan<byte> prefix)
    {
        if (prefix.Length < SegmentHeader.Size)
            return PreviousSegment.Replaced($"{prefix.Length} bytes, shorter than the {SegmentHeader.Size}-byte header");
        var header = SegmentHeader.ReadFrom(prefix);
        if (header.Validate() is (_, var reason))
            return header is { Magic: SegmentHeader.ExpectedMagic, Version: SegmentHeader.SupportedVersion, Generation: 0 }
                ? PreviousSegment.NeverWritten
                : PreviousSegment.Replaced(reason);
        if (prefix.Length < SegmentHeader.SegmentLength)
            return PreviousSegment.Replaced($"file is {prefix.Length} bytes, expected at least {SegmentHeader.SegmentLength}");
        return null;
    }

    /// <summary>Maps the locked <paramref name="file"/>, reads what it holds when <paramref name="previous"/> is null (a kept
    /// segment), then stores the layout version. Disposes the file if mapping fails.</summary>
    private static SegmentWriter Map(string path, Microsoft.Win32.SafeHandles.SafeFileHandle file, PreviousSegment? previous)
    {
        MappedRegion region;
        try
        {
            region = SegmentFile.Map(file, path, writable: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
        previous ??= ReadPrevious(region.Pointer);
        Volatile.Write(ref *(ushort*)(region.Pointer + SegmentHeader.VersionOffset), SegmentHeader.SupportedVersion);
        return new SegmentWriter(path, file, region, previous.Value);
    }

    /// <summary>The record of a kept segment under the seqlock (spec "Reader protocol"), with the reader's copy and decoding.</summary>
    private static PreviousSegment ReadPrevious(byte* segment)
    {
        Span<byte> copy = stackalloc byte[ClockErrorBound.Size];
        ushort first = Volatile.Read(ref *(ushort*)(segment + SegmentHeader.GenerationOffset));
        ushort g1 = first;
        for (int copies = 0; ; copies++)
        {
            if (g1 == 0) return PreviousSegment.NeverWritten;
            if ((g1 & 1) != 0) return PreviousSegment.OddGeneration(g1);
            if (SegmentReader.TryCopyRecord(segment, g1, copy, out ushort g2)) return PreviousSegment.Written(g1, ClockErrorBound.ReadFrom(copy));
            if (copies + 1 == MaxPreviousCopies) return PreviousSegment.KeptChanging(first, g2);
            g1 = g2;
        }
    }

    /// <summary>
    /// What the file held when this writer opened it, before <see cref="Open"/> changed anything (the layout version, a
    /// replacement): the previous run's last record (<see cref="PreviousSegmentState.Written"/>: a layout-v2 segment with an
    /// even, non-zero generation), or why there is none: no file, a file that was replaced, generation 0, an odd generation
    /// (the previous writer died mid-update). For the daemon's start-up decisions, e.g. whether the VMClock's disruption
    /// marker moved while no daemon was running; this writer makes none.
    /// </summary>
    public PreviousSegment Previous { get; }

    public string Path { get; }

    /// <summary>The generation currently stored: even after a write, 0 before the first write of a fresh segment,
    /// odd if a previous writer died mid-update and no write happened since.</summary>
    public ushort Generation => Volatile.Read(ref *GenerationPointer);

    private ushort* GenerationPointer => (ushort*)(_region.Pointer + SegmentHeader.GenerationOffset);

    /// <summary>Publishes <paramref name="bound"/> under the seqlock (spec "Writer protocol").</summary>
    public void Write(in ClockErrorBound bound)
    {
        ushort* generation = GenerationPointer;
        ushort current = *generation;
        // Odd = "write in progress". Already odd: a previous writer died mid-update; keep it.
        ushort odd = (current & 1) == 0 ? (ushort)(current + 1) : current;
        Volatile.Write(ref *generation, odd);
        // A release store only orders what came before it: the full fence keeps the record stores below
        // from becoming visible before the odd generation.
        Interlocked.MemoryBarrier();
        bound.WriteTo(new Span<byte>(_region.Pointer + SegmentHeader.Size, ClockErrorBound.Size));
        // Even = "consistent". 0 means "never written", so the wrap from 65535 goes to 2.
        ushort even = (ushort)(odd + 1);
        Volatile.Write(ref *generation, even == 0 ? (ushort)2 : even);
    }

    /// <summary>Unmaps the segment and closes the file, which releases the lock; the file stays for clients and the next writer.</summary>
    public void Dispose()
    {
        _region.Dispose();
        _file.Dispose();
    }
}
