using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.Tools;

/// <summary><c>clockbound waitsync [--timeout SECONDS] [--max-bound NANOSECONDS]</c>: exit 0 synchronised, 1 timed out (a segment
/// that never appeared included), 2 fatal.</summary>
public sealed class WaitsyncToolSpecs : IDisposable
{
    /// <summary>Guards the tests that wait without --timeout; never reached when waitsync works.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly ToolSegment _segment = new();

    public void Dispose() => _segment.Dispose();

    [Fact]
    public async Task Waitsync_must_exit_0_at_once_when_the_clock_is_synchronized()
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, boundNs: 20_000, ppb: 0));
        var run = await ToolRun.RunAsync("waitsync", "--shm-path", _segment.ShmPath);
        Assert.Equal(0, run.ExitCode);
        Assert.StartsWith("synchronized: bound 20000 ns", Assert.Single(run.StdoutLines));
    }

    [Theory]
    [InlineData(ClockStatus.Unknown)]
    [InlineData(ClockStatus.FreeRunning)]
    [InlineData(ClockStatus.Disrupted)]
    public async Task Waitsync_must_exit_1_when_the_clock_stays_unsynchronized_until_the_timeout(ClockStatus status)
    {
        _segment.Write(ToolSegment.Fresh(status));
        var run = await ToolRun.RunAsync("waitsync", "--timeout", "0.3", "--shm-path", _segment.ShmPath);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Stdout);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains("timed out", line);
        Assert.Contains(status.ToString(), line);
    }

    [Fact]
    public async Task Waitsync_must_exit_1_while_the_bound_exceeds_max_bound()
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, boundNs: 5_000_000, ppb: 0));
        var run = await ToolRun.RunAsync("waitsync", "--timeout", "0.3", "--max-bound", "1000000", "--shm-path", _segment.ShmPath);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("bound 5000000 ns", Assert.Single(run.StderrLines));
    }

    [Theory]
    [InlineData(true)]  // Unknown at first
    [InlineData(false)] // no segment at first: at boot, waitsync may start before the daemon
    public async Task Waitsync_must_exit_0_when_the_clock_becomes_synchronized_while_waiting_without_a_timeout(bool segmentAtStart)
    {
        if (segmentAtStart) _segment.Write(ToolSegment.Fresh(ClockStatus.Unknown));
        var (exit, stdout, stderr) = ToolRun.Start("waitsync", "--shm-path", _segment.ShmPath);
        Assert.False(exit.IsCompleted, $"waitsync did not wait: {stderr}"); // it has seen Unknown, or no segment, and is waiting

        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, boundNs: 30_000, ppb: 0));

        Assert.Same(exit, await Task.WhenAny(exit, Task.Delay(Deadline)));
        Assert.Equal(0, await exit);
        Assert.StartsWith("synchronized: bound 30000 ns", stdout.ToString());
    }

    [Fact]
    public async Task Waitsync_must_exit_0_when_the_bound_drops_below_max_bound_while_waiting()
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, boundNs: 5_000_000, ppb: 0));
        var (exit, _, _) = ToolRun.Start("waitsync", "--max-bound", "1000000", "--timeout", "30", "--shm-path", _segment.ShmPath);
        Assert.False(exit.IsCompleted);

        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, boundNs: 400_000));

        Assert.Equal(0, await exit);
    }

    [Fact]
    public async Task Waitsync_must_exit_1_at_the_timeout_when_the_segment_never_appears()
    {
        var run = await ToolRun.RunAsync("waitsync", "--timeout", "0.3", "--shm-path", _segment.MissingPath);
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Stdout);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains("timed out", line);
        Assert.Contains($"{_segment.MissingPath} does not exist", line);
    }

    [Fact]
    public async Task Waitsync_must_exit_1_at_the_timeout_when_the_segment_is_created_but_never_written()
    {
        _segment.Create(); // as a starting daemon leaves it before its first record: generation 0
        var run = await ToolRun.RunAsync("waitsync", "--timeout", "0.3", "--shm-path", _segment.ShmPath);
        Assert.Equal(1, run.ExitCode);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains("timed out", line);
        Assert.Contains($"{_segment.ShmPath} is not written yet", line);
    }

    [Fact]
    public async Task Waitsync_must_exit_2_for_a_file_that_is_not_a_segment()
    {
        File.WriteAllBytes(_segment.ShmPath, new byte[80]); // no magic
        var run = await ToolRun.RunAsync("waitsync", "--timeout", "5", "--shm-path", _segment.ShmPath);
        Assert.Equal(2, run.ExitCode);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains(_segment.ShmPath, line);
        Assert.Contains(nameof(ClockBoundErrorKind.SegmentNotInitialized), line);
    }

    [Fact]
    public async Task Waitsync_must_exit_2_for_a_malformed_segment()
    {
        var bytes = new byte[80];
        RawSegment.ExpectedMagic.CopyTo(bytes, 0);
        bytes[8] = 80; bytes[12] = 2; bytes[14] = 2; // valid header
        BitConverter.GetBytes(1_500_000_000u).CopyTo(bytes, 64); // max_drift_ppb >= 1e9
        File.WriteAllBytes(_segment.ShmPath, bytes);
        var run = await ToolRun.RunAsync("waitsync", "--shm-path", _segment.ShmPath);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(nameof(ClockBoundErrorKind.SegmentMalformed), Assert.Single(run.StderrLines));
    }

    [Theory]
    [InlineData("--timeout", "0")]
    [InlineData("--timeout", "-1")]
    [InlineData("--timeout", "soon")]
    [InlineData("--max-bound", "0")]
    [InlineData("--max-bound", "1.5")]
    public async Task Waitsync_must_exit_2_for_an_invalid_option(string option, string value)
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized));
        var run = await ToolRun.RunAsync("waitsync", option, value, "--shm-path", _segment.ShmPath);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(option, Assert.Single(run.StderrLines));
    }
}
