using ClockBound.Host.Cli;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.Tools;

/// <summary>One in-process run of <c>clockbound</c>: exit code and what it printed.</summary>
internal sealed record ToolRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static async Task<ToolRun> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await ClockBoundCli.RunAsync(args, stdout, stderr);
        return new ToolRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts a run without waiting for it (for waitsync, which blocks).</summary>
    public static (Task<int> Exit, StringWriter Stdout, StringWriter Stderr) Start(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        return (ClockBoundCli.RunAsync(args, stdout, stderr), stdout, stderr);
    }
}

/// <summary>A segment written by the project's writer in a temporary directory.</summary>
internal sealed class ToolSegment : IDisposable
{
    private readonly TempDirectory _dir = new("cb-tool");
    private SegmentWriter? _writer;

    public string ShmPath => _dir.Combine("shm0");
    public string VmClockPath => _dir.Combine("vmclock0");
    public string MissingPath => _dir.Combine("missing", "shm0");

    public void Write(in ClockErrorBound bound)
    {
        Create();
        _writer.Write(bound);
    }

    /// <summary>Creates the segment without writing a record (generation 0), as a starting daemon does first.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_writer))]
    public void Create() => _writer ??= SegmentWriter.Open(ShmPath);

    /// <summary>A record computed "now" on this host's CLOCK_MONOTONIC_COARSE, valid for an hour.</summary>
    public static ClockErrorBound Fresh(ClockStatus status, long boundNs = 20_000, uint ppb = 15_000, ulong marker = 0, bool disruptionSupport = false)
    {
        Timespec mono = Clocks.MonotonicCoarse();
        return new ClockErrorBound(mono, mono.AddSeconds(3600), boundNs, marker, ppb, status, disruptionSupport);
    }

    public void Dispose()
    {
        _writer?.Dispose();
        _dir.Dispose();
    }
}
