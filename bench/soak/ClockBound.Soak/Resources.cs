using System.Globalization;

namespace ClockBound.Soak;

/// <summary>One reading of a daemon process's resources from /proc, and of its GC heap (dotnet_total_memory_bytes from its
/// metrics endpoint: live objects plus what was allocated since the last collection; null when the scrape failed).</summary>
internal sealed record ResourceSample(int Run, TimeSpan RunAge, long RssKb, long PrivateDirtyKb, int Fds, int Threads, long? GcHeapKb)
{
    /// <summary>The sample of <paramref name="pid"/>, or null when it exited meanwhile.</summary>
    public static ResourceSample? Take(int run, TimeSpan runAge, int pid, long? gcHeapKb)
    {
        try
        {
            return new(run, runAge, GcHeapKb: gcHeapKb,
                RssKb: Kilobytes(File.ReadAllLines($"/proc/{pid}/status"), "VmRSS:"),
                PrivateDirtyKb: Kilobytes(File.ReadAllLines($"/proc/{pid}/smaps_rollup"), "Private_Dirty:"),
                Threads: Directory.GetDirectories($"/proc/{pid}/task").Length,
                Fds: Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"Name:   1234 kB".</summary>
    private static long Kilobytes(string[] lines, string name)
    {
        string line = lines.First(l => l.StartsWith(name, StringComparison.Ordinal));
        return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// The samples of every daemon run, and their growth: per run, from the first sample after the warm-up to the run's last
/// sample (a SIGKILL restart starts the figures again), summed over the runs and divided by the summed windows.
/// </summary>
internal sealed class ResourceLog(TimeSpan warmUp)
{
    private readonly List<ResourceSample> _samples = [];

    public TimeSpan WarmUp { get; } = warmUp;

    public void Add(ResourceSample sample)
    {
        lock (_samples) _samples.Add(sample);
    }

    public IReadOnlyList<ResourceSample> Samples
    {
        get { lock (_samples) return [.. _samples]; }
    }

    /// <summary>The measured window of each run that has one: its first sample past the warm-up and its last sample.</summary>
    public IReadOnlyList<(ResourceSample From, ResourceSample To)> Windows() =>
    [
        .. from run in Samples.GroupBy(s => s.Run)
           let warm = run.Where(s => s.RunAge >= WarmUp).OrderBy(s => s.RunAge).ToList()
           where warm.Count >= 2
           select (warm[0], warm[^1]),
    ];

    /// <summary>Summed growth over the windows, per hour of window; null when no run had a window.</summary>
    public (double RssKb, double PrivateDirtyKb, double Fds, double Threads, double? GcHeapKb, TimeSpan Measured)? GrowthPerHour()
    {
        var windows = Windows();
        double hours = windows.Sum(w => (w.To.RunAge - w.From.RunAge).TotalHours);
        if (hours <= 0) return null;
        // The GC heap only over the windows whose both ends were scraped.
        var gc = windows.Where(w => w.From.GcHeapKb is not null && w.To.GcHeapKb is not null).ToList();
        double gcHours = gc.Sum(w => (w.To.RunAge - w.From.RunAge).TotalHours);
        double? gcGrowth = gcHours > 0 ? gc.Sum(w => w.To.GcHeapKb!.Value - w.From.GcHeapKb!.Value) / gcHours : null;
        return (windows.Sum(w => w.To.RssKb - w.From.RssKb) / hours,
            windows.Sum(w => w.To.PrivateDirtyKb - w.From.PrivateDirtyKb) / hours,
            windows.Sum(w => w.To.Fds - w.From.Fds) / hours,
            windows.Sum(w => w.To.Threads - w.From.Threads) / hours,
            gcGrowth,
            TimeSpan.FromHours(hours));
    }
}
