using System.Text.Json;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.Tools;

/// <summary><c>clockbound status [--json]</c>: everything in the segment plus the bound computed for now.</summary>
public sealed class StatusToolSpecs : IDisposable
{
    private readonly ToolSegment _segment = new();

    public void Dispose() => _segment.Dispose();

    private static ClockErrorBound Record()
    {
        Timespec mono = Clocks.MonotonicCoarse();
        return new ClockErrorBound(mono, mono.AddSeconds(1000), 123_456, 77, 15_000, ClockStatus.Synchronized, false);
    }

    [Fact]
    public async Task Status_json_must_report_every_field_of_the_segment_and_the_bound_for_now()
    {
        var record = Record();
        _segment.Write(record);
        _segment.Write(record); // generation 4
        var raw = RawSegment.TryRead(_segment.ShmPath)!;

        var run = await ToolRun.RunAsync("status", "--json", "--shm-path", _segment.ShmPath);

        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(Assert.Single(run.StdoutLines));
        var root = json.RootElement;
        Assert.Equal(_segment.ShmPath, root.GetProperty("segment").GetString());
        Assert.Equal(raw.Version, root.GetProperty("version").GetInt32());
        Assert.Equal(80, root.GetProperty("segment_size").GetInt32());
        Assert.Equal(4, root.GetProperty("generation").GetInt32());
        Assert.Equal(raw.AsOfSec, root.GetProperty("as_of").GetProperty("sec").GetInt64());
        Assert.Equal(raw.AsOfNsec, root.GetProperty("as_of").GetProperty("nsec").GetInt64());
        Assert.Equal(raw.VoidAfterSec, root.GetProperty("void_after").GetProperty("sec").GetInt64());
        Assert.Equal(raw.VoidAfterNsec, root.GetProperty("void_after").GetProperty("nsec").GetInt64());
        Assert.Equal(123_456, root.GetProperty("bound_ns").GetInt64());
        Assert.Equal(15_000u, root.GetProperty("max_drift_ppb").GetUInt32());
        Assert.Equal(77ul, root.GetProperty("disruption_marker").GetUInt64());
        Assert.False(root.GetProperty("clock_disruption_support_enabled").GetBoolean());
        Assert.Equal("Synchronized", root.GetProperty("stored_status").GetString());
        Assert.InRange(root.GetProperty("as_of_age_seconds").GetDouble(), 0, 60);
        Assert.InRange(root.GetProperty("void_in_seconds").GetDouble(), 940, 1000);

        var now = root.GetProperty("now");
        Assert.Equal("Synchronized", now.GetProperty("status").GetString());
        long bound = now.GetProperty("bound_ns").GetInt64();
        Assert.InRange(bound, 123_456, 123_456 + 15_000 * 60); // 15 ppm of at most a minute since as_of
        Assert.Equal(2 * bound, now.GetProperty("latest_ns").GetInt64() - now.GetProperty("earliest_ns").GetInt64());
    }

    [Fact]
    public async Task Status_text_must_name_every_field()
    {
        _segment.Write(Record());
        var run = await ToolRun.RunAsync("status", "--shm-path", _segment.ShmPath);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Stderr);
        foreach (string label in new[]
                 {
                     "segment:", "layout version:      2", "generation:          2", "as_of:", "void_after:", "bound at as_of:      123456 ns",
                     "max drift:           15000 ppb", "disruption marker:   77", "disruption support:  disabled",
                     "stored status:       Synchronized", "status now:          Synchronized", "bound now:", "earliest:", "latest:",
                 })
        {
            Assert.Contains(run.StdoutLines, l => l.StartsWith(label, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Status_must_report_the_VMClock_marker_check_in_the_status_for_now()
    {
        using var vmClock = FakeVmClock.Create(_segment.VmClockPath, marker: 8);
        _segment.Write(Record() with { DisruptionMarker = 7, ClockDisruptionSupportEnabled = true });
        var run = await ToolRun.RunAsync("status", "--json", "--shm-path", _segment.ShmPath, "--vmclock-path", _segment.VmClockPath);
        Assert.Equal(0, run.ExitCode);
        using var json = JsonDocument.Parse(Assert.Single(run.StdoutLines));
        Assert.Equal("Synchronized", json.RootElement.GetProperty("stored_status").GetString());
        Assert.True(json.RootElement.GetProperty("clock_disruption_support_enabled").GetBoolean());
        Assert.Equal("Unknown", json.RootElement.GetProperty("now").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Status_must_exit_2_with_one_line_naming_a_segment_of_another_version()
    {
        var bytes = new byte[80];
        RawSegment.ExpectedMagic.CopyTo(bytes, 0);
        bytes[8] = 80; bytes[12] = 3; bytes[14] = 2; // size 80, version 3, generation 2
        File.WriteAllBytes(_segment.ShmPath, bytes);
        var run = await ToolRun.RunAsync("status", "--shm-path", _segment.ShmPath);
        Assert.Equal(2, run.ExitCode);
        Assert.Equal("", run.Stdout);
        string line = Assert.Single(run.StderrLines);
        Assert.Contains(nameof(ClockBoundErrorKind.SegmentVersionNotSupported), line);
        Assert.Contains(_segment.ShmPath, line);
    }

    [Fact]
    public async Task Status_must_exit_2_for_a_missing_segment()
    {
        var run = await ToolRun.RunAsync("status", "--json", "--shm-path", _segment.MissingPath);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(_segment.MissingPath, Assert.Single(run.StderrLines));
    }
}
