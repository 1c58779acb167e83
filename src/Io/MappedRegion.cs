using Microsoft.Win32.SafeHandles;

namespace ClockBound.Io;

/// <summary>
/// A <c>mmap</c>'d region of a file (MAP_SHARED), unmapped on dispose. Used for the segment (read-write or read-only)
/// and the VMClock device (read-only, one page at offset 0).
/// </summary>
public sealed unsafe class MappedRegion : IDisposable
{
    private nint _address;

    private MappedRegion(nint address, int length)
    {
        _address = address;
        Length = length;
    }

    public int Length { get; }

    /// <summary>Start of the mapping. Valid until <see cref="Dispose"/>.</summary>
    public byte* Pointer => _address != 0 ? (byte*)_address : throw new ObjectDisposedException(nameof(MappedRegion));

    public Span<byte> Span => new(Pointer, Length);

    /// <summary>Maps <paramref name="length"/> bytes at offset 0. Throws <see cref="SyscallException"/> naming <paramref name="path"/>.</summary>
    public static MappedRegion Map(SafeFileHandle file, string path, int length, bool writable)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        bool added = false;
        file.DangerousAddRef(ref added);
        try
        {
            int protection = Interop.Libc.PROT_READ | (writable ? Interop.Libc.PROT_WRITE : 0);
            nint address = Interop.Libc.Mmap(0, (nuint)length, protection, Interop.Libc.MAP_SHARED, (int)file.DangerousGetHandle(), 0);
            if (address == Interop.Libc.MAP_FAILED)
                throw SyscallException.FromLastError("mmap", path);
            return new MappedRegion(address, length);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }

    public void Dispose()
    {
        nint address = Interlocked.Exchange(ref _address, 0);
        if (address != 0)
            _ = Interop.Libc.Munmap(address, (nuint)Length);
    }
}
