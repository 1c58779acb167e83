namespace ClockBound.Io.Segment;

/// <summary>
/// The only writer of a segment file: creates or reuses it (warm restart), maps it MAP_SHARED and
/// publishes records under the generation seqlock. Not thread-safe: one owner.
/// </summary>
public sealed unsafe class SegmentWriter : IDisposable
{
    private readonly MappedRegion _region;

    private SegmentWriter(string path, MappedRegion region)
    {
        Path = path;
        _region = region;
    }

    /// <summary>Opens (or creates) the segment at <paramref name="path"/>. Throws <see cref="ClockBoundException"/>
    /// (Kind Syscall, message naming the path) when the file or its directory cannot be created or mapped.</summary>
    /// <remarks>A valid layout-v2 segment of at least 80 bytes (header and file) is kept as is, record and generation
    /// included, so clients keep reading across a daemon restart. Anything else is atomically replaced by a fresh
    /// segment (version 0, generation 0, zeros). The layout version is then set to 2; the generation stays 0 until
    /// the first <see cref="Write"/>.</remarks>
    public static SegmentWriter Open(string path)
    {
        var file = SegmentFile.OpenExisting(path, writable: true);
        if (file is not null && !IsReusable(file, path))
        {
            file.Dispose();
            file = null;
        }
        file ??= SegmentFile.CreateFresh(path);

        // The mapping outlives the descriptor, so the file is closed right away.
        using (file)
        {
            var region = SegmentFile.Map(file, path, writable: true);
            Volatile.Write(ref *(ushort*)(region.Pointer + SegmentHeader.VersionOffset), SegmentHeader.SupportedVersion);
            return new SegmentWriter(path, region);
        }
    }

    /// <summary>Valid per the spec's writer rule, and long enough (header field and file) for our 80-byte mapping:
    /// mapping past the end of the file would fault on access.</summary>
    private static bool IsReusable(Microsoft.Win32.SafeHandles.SafeFileHandle file, string path)
    {
        Span<byte> content = stackalloc byte[SegmentHeader.SegmentLength];
        if (SegmentFile.ReadPrefix(file, path, content) < SegmentHeader.SegmentLength) return false;
        var header = SegmentHeader.ReadFrom(content);
        return header.IsValid && header.SegmentSize >= SegmentHeader.SegmentLength;
    }

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

    /// <summary>Unmaps the segment; the file stays for clients and the next writer.</summary>
    public void Dispose() => _region.Dispose();
}
