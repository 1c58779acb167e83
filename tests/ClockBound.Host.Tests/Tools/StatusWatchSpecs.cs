using ClockBound.Host.Cli;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Tests.Tools;

/// <summary><c>clockbound status --watch</c> and its sparkline.</summary>
public sealed class StatusWatchSpecs : IDisposable
{
    private readonly ToolSegment _segment = new();

    public void Dispose() => _segment.Dispose();

    [Theory]
    [InlineData(new long[] { }, 10, "")]
    [InlineData(new long[] { 5, 5, 5 }, 10, "▁▁▁")]
    [InlineData(new long[] { 0, 7, 14 }, 10, "▁▄█")]
    [InlineData(new long[] { 10, 20, 30, 40, 50, 60, 70, 80 }, 10, "▁▂▃▄▅▆▇█")]
    [InlineData(new long[] { 100, 0, 1, 2 }, 3, "▁▄█")]      // only the last `width` values, scaled among themselves
    public void Sparkline_must_scale_the_last_values_between_their_min_and_max(long[] values, int width, string expected) =>
        Assert.Equal(expected, Sparkline.Render(values, width));

    [Theory]
    [InlineData("--json", "status", "--watch", "--count", "1", "--json")] // --watch prints plain lines, never JSON
    [InlineData("--count", "status", "--count", "2")]                     // --count counts the refreshes of --watch
    public async Task Status_must_refuse_options_it_would_ignore_with_one_line_naming_the_option(string culprit, params string[] args)
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized));
        var run = await ToolRun.RunAsync([.. args, "--shm-path", _segment.ShmPath]);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        Assert.StartsWith($"clockbound: {culprit}: ", Assert.Single(run.StderrLines));
    }

    [Fact]
    public async Task Watch_must_print_one_plain_line_per_refresh_when_not_on_a_terminal()
    {
        _segment.Write(ToolSegment.Fresh(ClockStatus.Synchronized, boundNs: 1_000_000, ppb: 0));

        var run = await ToolRun.RunAsync("status", "--watch", "--count", "2", "--shm-path", _segment.ShmPath);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(2, run.StdoutLines.Length);
        Assert.All(run.StdoutLines, l =>
        {
            Assert.Contains("status=Synchronized", l);
            Assert.Contains("bound_ns=1000000", l);
            Assert.Contains("max_drift_ppb=0", l);
            Assert.DoesNotContain("\u001b", l); // no terminal escapes in a pipe
        });
    }

    [Fact]
    public async Task Watch_must_report_a_missing_segment_and_keep_watching()
    {
        var run = await ToolRun.RunAsync("status", "--watch", "--count", "2", "--shm-path", _segment.ShmPath + ".missing");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(2, run.StdoutLines.Length);
        Assert.All(run.StdoutLines, l => Assert.Contains("error=SegmentNotInitialized", l));
    }
}
