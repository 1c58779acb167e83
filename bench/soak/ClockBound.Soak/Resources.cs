using System.Globalization;

namespace ClockBound.Soak;

/// <summary>One reading of a daemon process's resources from /proc, and of its GC heap (dotnet_total_memory_bytes from its
/// metrics endpoint: live objects plus what was allocated since the last collection; null when the scrape failed).
/// <see cref="Rss"/> splits the RSS by kind of mapping, to say where a growth is.</summary>
internal sealed record ResourceSample(int Run, TimeSpan RunAge, long RssKb, long PrivateDirtyKb, int Fds, int Threads, long? GcHeapKb,
    RssByKind Rss)
{
    /// <summary>The sample of <paramref name="pid"/>, or null when it exited meanwhile.</summary>
    public static ResourceSample? Take(int run, TimeSpan runAge, int pid, long? gcHeapKb)
    {
        try
        {
            return new(run, runAge, GcHeapKb: gcHeapKb,
                RssKb: Kilobytes(File.ReadAllLines($"/proc/{pid}/status"), "VmRSS:"),
                PrivateDirtyKb: Kilobytes(File.ReadAllLines($"/proc/{pid}/smaps_rollup"), "Private_Dirty:"),
                Rss: RssByKind.Of(File.ReadAllLines($"/proc/{pid}/smaps")),
                Threads: Directory.GetDirectories($"/proc/{pid}/task").Length,
                Fds: Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"Name:   1234 kB".</summary>
    private static long Kilobytes(string[] lines, string name) =>
        KilobytesOf(lines.First(l => l.StartsWith(name, StringComparison.Ordinal)), name);

    internal static long KilobytesOf(string line, string name) =>
        long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}

/// <summary>
/// The RSS by kind of mapping (<c>/proc/PID/smaps</c>): the runtime's executable memory (JIT-compiled code, stubs;
/// <c>/memfd:doublemapper</c>, the runtime's W^X double mapping), files (assemblies, native libraries: clean pages the
/// kernel can drop), and anonymous memory (the C heap's arenas, the GC heap, thread stacks).
/// </summary>
internal sealed record RssByKind(long CodeKb, long FilesKb, long AnonymousKb)
{
    public static RssByKind Of(string[] smaps)
    {
        long code = 0, files = 0, anonymous = 0;
        string name = "";
        foreach (string line in smaps)
        {
            if (IsMappingHeader(line))
            {
                // "start-end perms offset dev inode   name": the name is the sixth field, if any.
                string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                name = fields.Length == 6 ? fields[5] : "";
            }
            else if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                long kb = ResourceSample.KilobytesOf(line, "Rss:");
                if (name.Contains("doublemapper", StringComparison.Ordinal)) code += kb;
                else if (name.StartsWith('/')) files += kb;
                else anonymous += kb;
            }
        }
        return new(code, files, anonymous);
    }

    /// <summary>A mapping's first line starts with its address range ("7f3c...-7f3c... r-xp ..."); attribute lines
    /// start with a name and a colon ("Rss:", "VmFlags:").</summary>
    private static bool IsMappingHeader(string line)
    {
        int dash = line.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && !line.AsSpan(0, dash).ContainsAnyExcept("0123456789abcdef");
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

    /// <summary>Summed growth over the windows, per hour of window (<c>RssKinds</c>: the RSS by kind of mapping); null when
    /// no run had a window.</summary>
    public (double RssKb, RssByKind RssKinds, double PrivateDirtyKb, double Fds, double Threads, double? GcHeapKb, TimeSpan Measured)? GrowthPerHour()
    {
        var windows = Windows();
        double hours = windows.Sum(w => (w.To.RunAge - w.From.RunAge).TotalHours);
        if (hours <= 0) return null;
        // The GC heap only over the windows whose both ends were scraped.
        var gc = windows.Where(w => w.From.GcHeapKb is not null && w.To.GcHeapKb is not null).ToList();
        double gcHours = gc.Sum(w => (w.To.RunAge - w.From.RunAge).TotalHours);
        double? gcGrowth = gcHours > 0 ? gc.Sum(w => w.To.GcHeapKb!.Value - w.From.GcHeapKb!.Value) / gcHours : null;
        long KindGrowth(Func<RssByKind, long> kind) => (long)(windows.Sum(w => kind(w.To.Rss) - kind(w.From.Rss)) / hours);
        return (windows.Sum(w => w.To.RssKb - w.From.RssKb) / hours,
            new RssByKind(KindGrowth(k => k.CodeKb), KindGrowth(k => k.FilesKb), KindGrowth(k => k.AnonymousKb)),
            windows.Sum(w => w.To.PrivateDirtyKb - w.From.PrivateDirtyKb) / hours,
            windows.Sum(w => w.To.Fds - w.From.Fds) / hours,
            windows.Sum(w => w.To.Threads - w.From.Threads) / hours,
            gcGrowth,
            TimeSpan.FromHours(hours));
    }
}
