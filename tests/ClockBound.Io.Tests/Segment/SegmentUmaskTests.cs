using System.Runtime.InteropServices;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Segment;

/// <summary>The umask is process-wide: these tests run alone, after the parallel collections.</summary>
[CollectionDefinition(nameof(ProcessUmaskCollection), DisableParallelization = true)]
public sealed class ProcessUmaskCollection;

[Collection(nameof(ProcessUmaskCollection))]
public sealed partial class SegmentUmaskTests
{
    [LibraryImport("libc", EntryPoint = "umask")]
    private static partial uint Umask(uint mask);

    [Fact]
    public void Writer_must_create_the_file_with_mode_0644_even_under_a_restrictive_umask()
    {
        using var dir = new TempDirectory();
        string path = dir.Combine("clockbound", "shm0");
        uint previous = Umask(0b000_111_111); // 077
        try
        {
            using var writer = SegmentWriter.Open(path);
        }
        finally
        {
            Umask(previous);
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(path));
    }
}
