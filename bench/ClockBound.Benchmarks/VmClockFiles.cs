using ClockBound.TestSupport;

namespace ClockBound.Benchmarks;

/// <summary>Files with the VMClock layout, standing in for /dev/vmclock0 (which does not exist here).</summary>
internal static class VmClockFiles
{
    /// <summary>A valid VMClock structure in a regular file (as <see cref="FakeVmClock"/> makes it). The reader checks a
    /// regular file's length (one statx) before every read, because touching a truncated mapping would raise SIGBUS.</summary>
    public static FakeVmClock CreateRegularFile(string path, ulong marker) => FakeVmClock.Create(path, marker);

    /// <summary>The same structure in a memfd sealed against shrinking: no length check, the real device's code path.</summary>
    public static SealedVmClockFile CreateSealedMemfd(ulong marker) => SealedVmClockFile.Create(marker);
}
