using System.Globalization;
using System.Runtime.InteropServices;

namespace ClockBound.Io.Tests;

/// <summary>The real glibc malloc of this test process.</summary>
public sealed class NativeHeapSpecs
{
    /// <summary>64 kB: below glibc's mmap threshold (128 kB), so the blocks come from an arena, not from their own mmap.</summary>
    private const int BlockBytes = 64 * 1024;

    /// <summary>64 MB of blocks: far above what the other tests running beside this one can add to the RSS meanwhile.</summary>
    private const int Blocks = 1024;

    [Fact]
    public unsafe void Trim_must_give_the_pages_freed_in_the_middle_of_an_arena_back_to_the_kernel()
    {
        var blocks = new nint[Blocks];
        for (int i = 0; i < Blocks; i++)
        {
            blocks[i] = (nint)NativeMemory.Alloc(BlockBytes);
            new Span<byte>((void*)blocks[i], BlockBytes).Fill(0xA5); // resident, not just reserved
        }

        // A block allocated after the others and kept: the freed ones are then not at the arena's top, where free() itself
        // would give them back. They stay resident, as the JIT's scratch memory does between compilations.
        void* keep = NativeMemory.Alloc(BlockBytes);
        try
        {
            foreach (var block in blocks) NativeMemory.Free((void*)block);
            long before = ResidentKilobytes();

            var result = NativeHeap.Trim();

            long released = before - ResidentKilobytes();
            Assert.Equal(NativeHeapTrim.Released, result);
            Assert.True(released >= Blocks * (BlockBytes / 1024) / 2,
                $"RSS went down by {released} kB after freeing {Blocks * (BlockBytes / 1024)} kB and trimming");
        }
        finally
        {
            NativeMemory.Free(keep);
        }
    }

    private static long ResidentKilobytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
