using System.Globalization;
using System.Text.Json;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Tests.Tools;

/// <summary><c>clockbound now [--json] [--bench N]</c>.</summary>
public sealed class NowToolSpecs : IDisposable
{
    private readonly ToolSegment _segment = new();

    public void Dispose() => _segment.Dispose();

    [Fact]
    public async Task Now_must_print_earliest_latest_bound_and_status()
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, boundNs: 1_000_000, ppb: 0));
        var run = await ToolRun.RunAsync("now", "--shm-path", _segment.ShmPath);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        Assert.Contains(run.StdoutLines, l => l.StartsWith("earliest:", StringComparison.Ordinal));
        Assert.Contains(run.StdoutLines, l => l.StartsWith("latest:", StringComparison.Ordinal));
        Assert.Contains("bound:    1000000 ns", run.StdoutLines);
        Assert.Contains("status:   Synchronized", run.StdoutLines);
    }

    [Fact]
    public async Task Now_json_must_print_one_object_that_brackets_this_hosts_clock()
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.FreeRunning, boundNs: 2_000_000, ppb: 0));
        long before = Clocks.Realtime().TotalNanoseconds;
        var run = await ToolRun.RunAsync("now", "--json", "--shm-path", _segment.ShmPath);
        long after = Clocks.Realtime().TotalNanoseconds;

        Assert.Equal(0, run.ExitCode);
        var line = Assert.Single(run.StdoutLines);
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("FreeRunning", root.GetProperty("status").GetString());
        Assert.Equal(2_000_000, root.GetProperty("bound_ns").GetInt64());
        long earliest = root.GetProperty("earliest_ns").GetInt64();
        long latest = root.GetProperty("latest_ns").GetInt64();
        Assert.Equal(4_000_000, latest - earliest);
        Assert.InRange(earliest + 2_000_000, before, after);
    }

    [Fact]
    public async Task Now_bench_must_print_the_median_cost_per_call_last()
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized));
        var run = await ToolRun.RunAsync("now", "--bench", "1000", "--shm-path", _segment.ShmPath);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(5, run.StdoutLines.Count(l => l.StartsWith("batch ", StringComparison.Ordinal)));
        string last = run.StdoutLines[^1];
        Assert.StartsWith("median_ns_per_call=", last);
        double median = double.Parse(last["median_ns_per_call=".Length..], CultureInfo.InvariantCulture);
        Assert.True(median > 0);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public async Task Now_bench_must_reject_a_count_that_is_not_positive(string count)
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized));
        var run = await ToolRun.RunAsync("now", "--bench", count, "--shm-path", _segment.ShmPath);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--bench", Assert.Single(run.StderrLines));
    }

    [Fact]
    public async Task Now_must_advise_vmclock_path_when_the_segment_needs_a_VMClock_that_is_not_there()
    {
        // The daemon runs with disruption support, so the client reads the VMClock too; the tool has no
        // --disable-clock-disruption-support to offer, only where to find the device.
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, disruptionSupport: true));
        var run = await ToolRun.RunAsync("now", "--shm-path", _segment.ShmPath, "--vmclock-path", _segment.VmClockPath);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains($"VMClock device {_segment.VmClockPath} does not exist", line);
        Assert.Contains("--vmclock-path", line);
        Assert.DoesNotContain("--disable-clock-disruption-support", line);
        Assert.DoesNotContain("chmod", line);
    }

    [Fact]
    public async Task Now_must_exit_2_with_one_line_naming_a_missing_segment()
    {
        var run = await ToolRun.RunAsync("now", "--shm-path", _segment.MissingPath);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains(_segment.MissingPath, line);
        Assert.Contains(nameof(ClockBoundErrorKind.SegmentNotInitialized), line);
    }
}
