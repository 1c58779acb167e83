namespace ClockBound.Io.Segment;

/// <summary>Maps a segment read-only and takes consistent snapshots. Thread-safe, lock-free; do not dispose
/// while another thread is taking a snapshot.</summary>
public sealed unsafe class SegmentReader : IDisposable
{
    /// <summary>How many times a snapshot re-reads an odd generation (with <see cref="SpinWait"/> backoff, no sleeping)
    /// before concluding the writer is stuck: a live writer stores the 64 bytes in well under a microsecond.</summary>
    private const int MaxOddGenerationSpins = 1000;

    /// <summary>How many torn copies (generation changed during the copy) a snapshot tolerates before giving up; each
    /// one needs a complete update by the writer during a 64-byte copy, so reaching this means something is broken.</summary>
    private const int MaxTornCopies = 1000;

    private readonly MappedRegion _region;

    /// <summary>The last consistent snapshot, replaced as a whole so that concurrent readers never see a torn cache.
    /// Allocated only when the generation has changed (at most once per writer update).</summary>
    private GoodSnapshot? _last;

    private sealed class GoodSnapshot(ushort generation, ClockErrorBound record)
    {
        public readonly ushort Generation = generation;
        public readonly ClockErrorBound Record = record;
    }

    private SegmentReader(string path, MappedRegion region)
    {
        Path = path;
        _region = region;
    }

    /// <summary>Opens and validates the segment at <paramref name="path"/> and maps it read-only. Throws
    /// <see cref="ClockBoundException"/>: SegmentNotInitialized (missing file, shorter than its header, bad magic, version 0,
    /// generation 0), SegmentVersionNotSupported (version != 2), SegmentMalformed (segment size field or file shorter than
    /// 80 bytes), Syscall (open, read or mmap failed; errno in <see cref="ClockBoundException.Errno"/>).</summary>
    public static SegmentReader Open(string path)
    {
        using var file = SegmentFile.OpenExisting(path, writable: false)
            ?? throw new ClockBoundException(ClockBoundErrorKind.SegmentNotInitialized, path,
                $"clock error bound segment {path} does not exist (is the clockbound daemon running?)");

        Span<byte> content = stackalloc byte[SegmentHeader.SegmentLength];
        int length = SegmentFile.ReadPrefix(file, path, content);
        if (length < SegmentHeader.Size)
            throw new ClockBoundException(ClockBoundErrorKind.SegmentNotInitialized, path,
                $"clock error bound segment {path}: {length} bytes, shorter than the {SegmentHeader.Size}-byte header");
        if (SegmentHeader.ReadFrom(content).Validate() is var (kind, reason))
            throw new ClockBoundException(kind, path, $"clock error bound segment {path}: {reason}");
        if (length < SegmentHeader.SegmentLength)
            throw new ClockBoundException(ClockBoundErrorKind.SegmentMalformed, path,
                $"clock error bound segment {path}: file is {length} bytes, expected at least {SegmentHeader.SegmentLength}");

        return new SegmentReader(path, SegmentFile.Map(file, path, writable: false));
    }

    public string Path { get; }

    /// <summary>
    /// A consistent copy of the record (spec "Reader protocol"), returned by reference to an immutable cached copy (a
    /// caller that assigns it to a local gets its own copy). Returns the cached snapshot without copying when the
    /// generation is unchanged; no allocation then. If the generation stays odd (writer died mid-update) the last
    /// consistent snapshot is returned: it remains a valid bound and ages to Unknown at its void_after. Without one,
    /// throws <see cref="ClockBoundException"/> SegmentNotInitialized.
    /// </summary>
    /// <remarks>Like the reference clients, the cache is keyed by generation only: if exactly a multiple of 32767
    /// updates happen between two calls, the previous record is returned until the next update; it is still a valid,
    /// slightly more pessimistic bound.</remarks>
    public ref readonly ClockErrorBound Snapshot()
    {
        // Fast path (every call between two writer updates): one load of the generation, no copy. The reference is to
        // an immutable cached snapshot, so the caller need not copy the 64-byte record either.
        ushort generation = Volatile.Read(ref *(ushort*)(_region.Pointer + SegmentHeader.GenerationOffset));
        var last = Volatile.Read(ref _last);
        if (last is not null && last.Generation == generation) return ref last.Record;
        return ref CopyRecord(last).Record;
    }

    /// <summary>The seqlock copy, taken when the generation has changed since <paramref name="last"/> (or there is none).
    /// Kept out of <see cref="Snapshot"/> so that the fast path neither zeroes the copy buffer nor sets up the retries.</summary>
    private GoodSnapshot CopyRecord(GoodSnapshot? last)
    {
        byte* segment = _region.Pointer;
        ushort* generation = (ushort*)(segment + SegmentHeader.GenerationOffset);
        var spin = new SpinWait();
        int oddSpins = 0, tornCopies = 0;
        Span<byte> copy = stackalloc byte[ClockErrorBound.Size];
        while (true)
        {
            ushort g1 = Volatile.Read(ref *generation);
            if ((g1 & 1) != 0)
            {
                if (++oddSpins > MaxOddGenerationSpins) return last ?? throw WriterStuck(g1);
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            if (last is not null && last.Generation == g1) return last;

            if (TryCopyRecord(segment, g1, copy, out ushort g2))
            {
                var snapshot = new GoodSnapshot(g1, ClockErrorBound.ReadFrom(copy));
                Volatile.Write(ref _last, snapshot);
                return snapshot;
            }
            if (++tornCopies > MaxTornCopies) return last ?? throw WriterStuck(g2);
        }
    }

    /// <summary>One seqlock copy (spec "Reader protocol"): copies the record of the mapped <paramref name="segment"/> into
    /// <paramref name="copy"/> and loads the generation again into <paramref name="g2"/>. True when it is still the even
    /// <paramref name="g1"/> the caller loaded (acquire) before: the copy is then consistent, for
    /// <see cref="ClockErrorBound.ReadFrom"/>. Shared with <see cref="SegmentWriter"/>, which reads the previous run's record.</summary>
    internal static bool TryCopyRecord(byte* segment, ushort g1, Span<byte> copy, out ushort g2)
    {
        new ReadOnlySpan<byte>(segment + SegmentHeader.Size, ClockErrorBound.Size).CopyTo(copy);
        // An acquire load does not keep earlier loads from moving after it: fence so the copy completes first.
        Interlocked.MemoryBarrier();
        g2 = Volatile.Read(ref *(ushort*)(segment + SegmentHeader.GenerationOffset));
        return g1 == g2;
    }

    private ClockBoundException WriterStuck(ushort generation) =>
        new(ClockBoundErrorKind.SegmentNotInitialized, Path,
            $"clock error bound segment {Path}: no consistent record, the writer is stuck mid-update (generation {generation})");

    public void Dispose() => _region.Dispose();
}
