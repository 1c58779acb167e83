namespace ClockBound.Io;

/// <summary>What <see cref="NativeHeap.Trim"/> did.</summary>
public enum NativeHeapTrim
{
    /// <summary>Free pages were given back to the kernel.</summary>
    Released,
    /// <summary>No arena had a free page to give back.</summary>
    NothingToRelease,
    /// <summary>The C library has no <c>malloc_trim</c> (it is glibc's; musl lacks it).</summary>
    Unsupported,
}

/// <summary>
/// The process's C heap (glibc malloc), under the runtime's own allocations: the JIT's scratch memory, type loading,
/// thread start-up. glibc keeps what is freed in the middle of an arena resident for reuse, so each arena's resident
/// size is its high-water mark; a long-running process that keeps meeting new code paths (each JIT compilation
/// borrows and frees scratch memory, on whichever thread-pool thread and arena) sees its RSS creep upwards although
/// nothing is kept alive. Trimming hands the free pages back.
/// </summary>
public static class NativeHeap
{
    /// <summary>Gives the free pages of every malloc arena back to the kernel (<c>malloc_trim(0)</c>).</summary>
    public static NativeHeapTrim Trim()
    {
        try
        {
            return Interop.Libc.MallocTrim(0) != 0 ? NativeHeapTrim.Released : NativeHeapTrim.NothingToRelease;
        }
        catch (EntryPointNotFoundException)
        {
            return NativeHeapTrim.Unsupported;
        }
    }
}
