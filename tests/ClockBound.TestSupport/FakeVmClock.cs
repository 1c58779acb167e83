using ClockBound.Io;
using ClockBound.Io.VmClock;
using Microsoft.Win32.SafeHandles;

namespace ClockBound.TestSupport;

/// <summary>
/// A regular file with the VMClock layout standing in for /dev/vmclock0, updated through a shared mapping the way the
/// hypervisor updates the device: seq_count made odd, fields written, seq_count made even again. Readers that map the
/// same file see every step. One writer: the methods are not thread-safe among themselves.
/// </summary>
public sealed unsafe class FakeVmClock : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly MappedRegion _mapping;

    private FakeVmClock(string path, SafeFileHandle file, MappedRegion mapping)
    {
        Path = path;
        _file = file;
        _mapping = mapping;
    }

    /// <summary>Creates (or replaces) <paramref name="path"/> as a valid 104-byte structure with seq_count 0. Create it
    /// before any reader opens it: replacing a file truncates it under the readers that have it mapped.</summary>
    public static FakeVmClock Create(string path, ulong marker = 1) => Create(path, Valid(marker));

    /// <summary>Creates (or replaces) <paramref name="path"/> holding <paramref name="snapshot"/> (seq_count included, so
    /// an odd one starts a torn update).</summary>
    public static FakeVmClock Create(string path, VmClockSnapshot snapshot)
    {
        SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            Span<byte> bytes = stackalloc byte[VmClockSnapshot.Size104];
            snapshot.WriteTo(bytes);
            RandomAccess.Write(file, bytes, fileOffset: 0);
            // One page, like the device; the bytes past the end of the file stay private to the mappings.
            return new FakeVmClock(path, file, MappedRegion.Map(file, path, Environment.SystemPageSize, writable: true));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A valid structure (version 1, size 104, clock status synchronized) with the given marker.</summary>
    public static VmClockSnapshot Valid(ulong marker) =>
        new(Size: VmClockSnapshot.Size104, Version: 1, SeqCount: 0, DisruptionMarker: marker, Flags: 0, ClockStatus: 2)
        {
            CounterId = 0xFF, // no counter: the fake carries no time
        };

    public string Path { get; }

    /// <summary>The structure as it is in the file now (possibly mid-update).</summary>
    public VmClockSnapshot Current => VmClockSnapshot.ReadFrom(_mapping.Span);

    public ulong Marker => Current.DisruptionMarker;

    public uint SeqCount => Volatile.Read(ref SeqCountRef);

    /// <summary>True between <see cref="BeginTornUpdate"/> and <see cref="EndUpdate"/>: seq_count is odd.</summary>
    public bool IsUpdating => (SeqCount & 1) != 0;

    private ref uint SeqCountRef => ref *(uint*)(_mapping.Pointer + VmClockSnapshot.SeqCountOffset);

    /// <summary>A disruption: the marker changes. Returns the new marker.</summary>
    public ulong BumpMarker()
    {
        ulong marker = Marker + 1;
        SetMarker(marker);
        return marker;
    }

    public void SetMarker(ulong marker) => Update(Current with { DisruptionMarker = marker });

    /// <summary>Writes every field except seq_count (the magic always valid). Outside an update this is one complete
    /// update (seq_count +2); inside <see cref="BeginTornUpdate"/> it only changes the fields.</summary>
    public void Update(in VmClockSnapshot snapshot)
    {
        bool ownUpdate = !IsUpdating;
        if (ownUpdate)
            BeginTornUpdate();
        Span<byte> bytes = stackalloc byte[VmClockSnapshot.Size104];
        snapshot.WriteTo(bytes);
        Span<byte> page = _mapping.Span;
        bytes[..VmClockSnapshot.SeqCountOffset].CopyTo(page);
        bytes[(VmClockSnapshot.SeqCountOffset + sizeof(uint))..].CopyTo(page[(VmClockSnapshot.SeqCountOffset + sizeof(uint))..]);
        if (ownUpdate)
            EndUpdate();
    }

    /// <summary>Makes seq_count odd and leaves it so: readers must not return data until <see cref="EndUpdate"/>.</summary>
    public void BeginTornUpdate()
    {
        if (IsUpdating)
            throw new InvalidOperationException($"{Path}: an update is already in progress");
        Volatile.Write(ref SeqCountRef, SeqCount + 1);
        Interlocked.MemoryBarrier(); // the odd count is visible before any field changes
    }

    /// <summary>Makes seq_count even again (release: after the fields written since <see cref="BeginTornUpdate"/>).</summary>
    public void EndUpdate()
    {
        if (!IsUpdating)
            throw new InvalidOperationException($"{Path}: no update in progress");
        Volatile.Write(ref SeqCountRef, SeqCount + 1);
    }

    /// <summary>Shrinks the file to <paramref name="length"/> bytes (0 by default). The fake can no longer be updated
    /// afterwards (its mapping is released so that it cannot touch a page past the end of the file).</summary>
    public void Truncate(long length = 0)
    {
        _mapping.Dispose();
        RandomAccess.SetLength(_file, length);
    }

    /// <summary>Removes the file. Existing mappings, including the fake's own, stay valid.</summary>
    public void Delete() => File.Delete(Path);

    public void Dispose()
    {
        _mapping.Dispose();
        _file.Dispose();
    }
}
