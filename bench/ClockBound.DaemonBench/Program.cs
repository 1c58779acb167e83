using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

// Daemon benchmarks against a real sandboxed chronyd pair (chronyd -x, loopback only) and a VMClock file:
//   start    exec to the first Synchronized segment (median of N starts): cold, a fresh segment path each time (no previous
//            segment: the daemon publishes Disrupted and resets chronyd first); and warm, restarts on one segment path
//            whose previous record is Synchronized with the same VMClock marker (adopted: no reset)
//   bump     VMClock marker bump to Disrupted visible in the segment, and to Synchronized again (the daemon's reset of
//            chronyd and chronyd's burst) (median, p99 over N bumps)
//   steady   CPU (utime+stime) and memory (smaps_rollup) over a window after a warm-up, next to an empty .NET app;
//            CPU and wake-ups per daemon thread; the VMClock is a sealed memfd (the device's code path)
//   rates    the steady measurement for three poll settings in one window, so that they compare: three daemons at once
//            (chrony and VMClock polls of 1 s and 1 s, 100 ms and 100 ms, the defaults), each with its own segment, sealed
//            VMClock memfd and -c file; CPU (the sum of the threads' schedstat), writes, memory, threads, and per thread
//   rtt      round trip of ChronyClient's tracking request to the sandbox (median, p99)
// The floor (a bare thread of the bench waking every 10 ms) is measured in the steady and rates windows.
// Usage: DaemonBench --daemon PUBLISHED_CLOCKBOUND --empty PUBLISHED_EMPTY_APP [--starts 10] [--bumps 50] [--warmup 20]
//        [--steady 60] [--rtt 2000] [--only start,bump,steady,rates,rtt] [-- extra daemon arguments]
// --starts counts both the cold starts and the warm restarts; --warmup and --steady apply to steady and rates alike. The
// rates part passes its own -c: extra daemon arguments must not include one.

var options = Options.Parse(args);
var rows = new List<(string Metric, string Value, string Goal)>();
var threadRows = new List<(string Thread, string Cpu, string Wakes)>();
var rateRows = new List<(string Setting, string Cpu, string VsFloor, string Writes, string Memory, string Threads, string Goal)>();
var rateThreadRows = new List<(string Thread, string Cpu, string Wakes)>();
var inv = CultureInfo.InvariantCulture;

await using var sandbox = await ChronydSandbox.StartPairAsync();
await sandbox.WaitSynchronisedAsync(TimeSpan.FromSeconds(30));
using var dir = new TempDirectory("cbbench");
using var vmClock = FakeVmClock.Create(dir.Combine("vmclock0"), marker: 1);
// The steady part reads a sealed memfd instead: like the real device (and unlike a regular file, which the daemon must
// stat on every read in case it was truncated) it cannot shrink, so the daemon takes the device's code path.
using var sealedVmClock = SealedVmClockFile.Create(marker: 1);

string[] DaemonArgs(string shmPath, string? vmClockPath = null) =>
[
    "--max-drift-rate", "50", "--chrony-socket", sandbox.ClientSocketPath, "--shm-path", shmPath,
    "--vmclock-path", vmClockPath ?? vmClock.Path, .. options.DaemonExtra,
];

if (options.Runs("start"))
{
    var times = new List<double>();
    for (int i = 0; i < options.Starts; i++)
    {
        string shm = dir.Combine($"start{i}", "shm0");
        var stopwatch = Stopwatch.StartNew();
        using var daemon = Child.Start(options.Daemon, DaemonArgs(shm));
        while (RawSegment.TryRead(shm) is not { ClockStatus: RawSegment.Synchronized })
        {
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(30) || daemon.HasExited)
                throw new InvalidOperationException($"start {i}: no Synchronized segment after {stopwatch.Elapsed}: {daemon.Output}");
            Thread.Sleep(1);
        }
        times.Add(stopwatch.Elapsed.TotalMilliseconds);
        daemon.Stop();
    }
    rows.Add(($"cold start (no previous segment: chronyd is reset) to first Synchronized (median of {options.Starts}; min/max)",
        $"{Median(times):0} ms ({times.Min():0}/{times.Max():0})", ""));

    // Warm restart: the previous run's segment says Synchronized with the VMClock's current marker, so the new daemon
    // adopts the marker and publishes Synchronized after its first chrony poll, without resetting chronyd. The old record
    // still says Synchronized: the new process's first one is told apart by its generation.
    string warmShm = dir.Combine("warm", "shm0");
    var warm = Child.Start(options.Daemon, DaemonArgs(warmShm));
    try
    {
        WaitFor(() => RawSegment.TryRead(warmShm) is { ClockStatus: RawSegment.Synchronized }, warm, "Synchronized before the warm restarts");
        var warmTimes = new List<double>();
        for (int i = 0; i < options.Starts; i++)
        {
            warm.Stop(); // SIGTERM, and waits for the exit: nothing writes the segment after this
            warm.Dispose();
            ushort before = RawSegment.TryRead(warmShm)?.Generation
                ?? throw new InvalidOperationException($"warm restart {i}: no complete segment after the stop: {warm.Output}");
            var stopwatch = Stopwatch.StartNew();
            warm = Child.Start(options.Daemon, DaemonArgs(warmShm));
            while (RawSegment.TryRead(warmShm) is not { ClockStatus: RawSegment.Synchronized } now || now.Generation == before)
            {
                if (stopwatch.Elapsed > TimeSpan.FromSeconds(30) || warm.HasExited)
                    throw new InvalidOperationException($"warm restart {i}: no Synchronized record of the new process after {stopwatch.Elapsed}: {warm.Output}");
                Thread.Sleep(1);
            }
            warmTimes.Add(stopwatch.Elapsed.TotalMilliseconds);
            // Only a restart that adopted the marker is a warm one (its log line lags behind the segment: wait for it).
            WaitFor(() => warm.Output.Contains($"VMClock disruption marker {vmClock.Marker} adopted", StringComparison.Ordinal), warm, $"warm restart {i}: the marker adopted");
        }
        rows.Add(($"warm restart (previous segment, same VMClock marker: adopted) to first Synchronized (median of {options.Starts}; min/max)",
            $"{Median(warmTimes):0} ms ({warmTimes.Min():0}/{warmTimes.Max():0})", "median ≤ 250 ms"));
    }
    finally
    {
        warm.Dispose();
    }
}

if (options.Runs("bump"))
{
    string shm = dir.Combine("bump", "shm0");
    using var daemon = Child.Start(options.Daemon, DaemonArgs(shm));
    WaitFor(() => RawSegment.TryRead(shm) is { ClockStatus: RawSegment.Synchronized }, daemon, "Synchronized");
    using var reader = SegmentReader.Open(shm);
    // The reader's own look interval is part of each measured latency: 100 µs (a futex wait) instead of Thread.Sleep(1),
    // whose 1.1 ms granularity added up to a millisecond to every figure.
    var lookInterval = TimeSpan.FromMicroseconds(100);
    var pause = new ClockBound.Io.WakeEvent();
    var latencies = new List<double>();
    var resyncs = new List<double>();
    int seenDisrupted = 0;
    for (int i = 0; i < options.Bumps; i++)
    {
        // At a random instant: each bump follows the previous one's reset and burst, which could lock the bump to the
        // phase of the daemon's VMClock poll and bias the latencies.
        Thread.Sleep(Random.Shared.Next(0, 100));
        var stopwatch = Stopwatch.StartNew();
        ulong marker = vmClock.BumpMarker();
        // The daemon's first record with the new marker is the Disrupted one; the reset that follows can end it within a
        // millisecond, so a reader descheduled for that long sees the marker with a later status instead.
        ClockErrorBound seen;
        while ((seen = reader.Snapshot()).DisruptionMarker != marker)
        {
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(10)) throw new InvalidOperationException($"bump {i}: marker not published: {daemon.Output}");
            // Sleep rather than spin: on a small machine a spinning reader would take the CPU the daemon needs to react.
            pause.Wait(lookInterval);
        }
        latencies.Add(stopwatch.Elapsed.TotalMilliseconds);
        if (seen.Status == ClockStatus.Disrupted) seenDisrupted++;
        // Then the whole disruption, to the first Synchronized record with the new marker (chronyd reset and synchronised
        // again), with the same look interval; the next bump only comes after it.
        while (reader.Snapshot() is not { Status: ClockStatus.Synchronized } synchronized || synchronized.DisruptionMarker != marker)
        {
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(60) || daemon.HasExited)
                throw new InvalidOperationException($"bump {i}: not Synchronized again within {stopwatch.Elapsed}: {daemon.Output}");
            pause.Wait(lookInterval);
        }
        resyncs.Add(stopwatch.Elapsed.TotalMilliseconds);
    }
    Console.Error.WriteLine($"bump latencies, ms, sorted: {string.Join(' ', latencies.Order().Select(l => l.ToString("0.0", inv)))}");
    Console.Error.WriteLine($"bump to Synchronized again, ms, sorted: {string.Join(' ', resyncs.Order().Select(l => l.ToString("0.0", inv)))}");
    rows.Add(($"VMClock bump to Disrupted in the segment (median / p99 of {options.Bumps}; max)",
        $"{Median(latencies):0.0} / {Percentile(latencies, 0.99):0.0} ms ({latencies.Max():0.0}; seen as Disrupted {seenDisrupted} times)", "p99 ≤ 50 ms"));
    rows.Add(($"VMClock bump to Synchronized again (median / p99 of {options.Bumps}; max)",
        $"{Median(resyncs):0} / {Percentile(resyncs, 0.99):0} ms ({resyncs.Max():0})", "median ≤ 600 ms, p99 ≤ 700 ms"));
}

if (options.Runs("steady"))
{
    string shm = dir.Combine("steady", "shm0");
    using var daemon = Child.Start(options.Daemon, DaemonArgs(shm, sealedVmClock.PathForOtherProcesses));
    using var empty = Child.Start(options.Empty, []);
    WaitFor(() => RawSegment.TryRead(shm) is { ClockStatus: RawSegment.Synchronized }, daemon, "Synchronized");
    Thread.Sleep(TimeSpan.FromSeconds(options.WarmupSeconds));
    double emptyCpu0 = Proc.CpuSeconds(empty.Pid);
    var window = MeasurementWindow.Run(options.SteadySeconds, [new WatchedDaemon("steady", daemon, shm)]);
    var (figures, floorCpu) = (window.Daemons[0], window.FloorCpuPerMinute);
    double emptyCpu = (Proc.CpuSeconds(empty.Pid) - emptyCpu0) * 60.0 / options.SteadySeconds;
    var e = Proc.Memory(empty.Pid);
    rows.Add(("steady segment writes per second (one per chrony poll)", $"{figures.WritesPerSecond:0.0}", "10 (100 ms polls)"));
    rows.Add(("steady clock status changes after the first Synchronized (chronyd's state; log on stderr)", $"{figures.StatusChanges}", "0"));
    rows.Add(($"steady CPU, s per minute ({options.SteadySeconds} s after {options.WarmupSeconds} s warm-up; empty app)",
        $"{figures.ProcessCpuPerMinute:0.000} ({emptyCpu:0.000})", "≤ 0.25 s"));
    var d = figures.Memory;
    rows.Add(("steady RSS / PSS (empty app)", $"{d.Rss / 1024.0:0.0} / {d.Pss / 1024.0:0.0} MB ({e.Rss / 1024.0:0.0} / {e.Pss / 1024.0:0.0})", ""));
    rows.Add(("steady private dirty (empty app)", $"{d.PrivateDirty / 1024.0:0.0} MB ({e.PrivateDirty / 1024.0:0.0})", "≤ 20 MB"));

    // Where the CPU goes: per thread (grouped by name, e.g. all ".NET TP Worker"s), CPU and wake-ups over the same window.
    foreach (var g in figures.ThreadGroups)
        threadRows.Add((g.Label, $"{g.CpuPerMinute:0.000}", $"{g.WakesPerSecond:0.0}"));
    // The process total, in 10 ms units, differs from the rows' sum by its rounding and by threads that ran after their
    // last sample and ended.
    threadRows.Add(("(process total, counted in 10 ms units, minus the rows above: rounding; threads that ended between samples)",
        $"{Math.Max(0, figures.ProcessCpuPerMinute - figures.ThreadCpuPerMinute):0.000}", ""));
    threadRows.Add(("(floor: a bare thread of the bench waking every 10 ms)", $"{floorCpu:0.000}", "100"));
    // The daemon's CPU follows what a wake-up costs on the machine at the moment; this ratio is what compares across runs.
    threadRows.Add(("(the daemon's whole CPU relative to the floor)", $"{figures.ProcessCpuPerMinute / floorCpu:0.00} ×", ""));
}

if (options.Runs("rates"))
{
    // Three daemons in one window, so that their figures compare (what a wake-up costs moves with the machine's state):
    // each with its own segment, its own sealed VMClock memfd (the device's code path, as in the steady part) and, for
    // the first two, a -c file with only the two changed keys.
    var settings = new (string Label, string? Hocon, string Goal)[]
    {
        ("1 s, 1 s", "clockbound { chrony.poll-interval = 1s, vmclock.poll-interval = 1s }", "≤ 0.03"),
        ("100 ms, 100 ms", "clockbound { chrony.poll-interval = 100ms, vmclock.poll-interval = 100ms }", "≤ 0.15"),
        ("defaults (100 ms, 35 ms)", null, "≤ 0.25"),
    };
    var vmClocks = new List<SealedVmClockFile>();
    var daemons = new List<WatchedDaemon>();
    try
    {
        for (int i = 0; i < settings.Length; i++)
        {
            var vm = SealedVmClockFile.Create(marker: 1);
            vmClocks.Add(vm);
            string shm = dir.Combine($"rates{i}", "shm0");
            string[] config = [];
            if (settings[i].Hocon is { } hocon)
            {
                string file = dir.Combine($"rates{i}.conf");
                File.WriteAllText(file, hocon + "\n");
                config = ["-c", file];
            }
            daemons.Add(new WatchedDaemon(settings[i].Label, Child.Start(options.Daemon, [.. config, .. DaemonArgs(shm, vm.PathForOtherProcesses)]), shm));
        }
        foreach (var w in daemons)
            WaitFor(() => RawSegment.TryRead(w.ShmPath) is { ClockStatus: RawSegment.Synchronized }, w.Daemon, $"{w.Label}: Synchronized");
        Thread.Sleep(TimeSpan.FromSeconds(options.WarmupSeconds));
        var window = MeasurementWindow.Run(options.SteadySeconds, daemons);
        for (int i = 0; i < settings.Length; i++)
        {
            var f = window.Daemons[i];
            // CPU here is the sum of the threads' schedstat (ns, each thread read once a second), not the process's
            // utime+stime: those count in 10 ms ticks, as coarse as the 1 s setting's whole budget over a short window.
            rateRows.Add((settings[i].Label, $"{f.ThreadCpuPerMinute:0.000}", $"{f.ThreadCpuPerMinute / window.FloorCpuPerMinute:0.00} ×",
                $"{f.WritesPerSecond:0.0}", $"{f.Memory.Rss / 1024.0:0.0} / {f.Memory.PrivateDirty / 1024.0:0.0}", $"{f.ThreadCount}",
                settings[i].Goal));
            foreach (var g in f.ThreadGroups)
                rateThreadRows.Add(($"{settings[i].Label}: {g.Label}", $"{g.CpuPerMinute:0.000}", $"{g.WakesPerSecond:0.0}"));
            if (f.StatusChanges > 0)
                rateThreadRows.Add(($"{settings[i].Label}: (clock status changes after the first Synchronized: chronyd's state; log on stderr)", $"{f.StatusChanges}", ""));
        }
        rateRows.Add(($"(floor: a bare thread of the bench waking every 10 ms; {options.SteadySeconds} s after {options.WarmupSeconds} s warm-up)",
            $"{window.FloorCpuPerMinute:0.000}", "1.00 ×", "", "", "", ""));
    }
    finally
    {
        foreach (var w in daemons) w.Daemon.Dispose();
        foreach (var vm in vmClocks) vm.Dispose();
    }
}

if (options.Runs("rtt"))
{
    using var client = ChronyClient.Connect(sandbox.ClientSocketPath);
    for (int i = 0; i < 100; i++) await client.GetTrackingAsync();
    var rtts = new List<double>();
    for (int i = 0; i < options.RoundTrips; i++)
    {
        long start = Stopwatch.GetTimestamp();
        await client.GetTrackingAsync();
        rtts.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
    }
    rows.Add(($"chrony tracking round trip (median / p99 of {options.RoundTrips})", $"{Median(rtts):0} / {Percentile(rtts, 0.99):0} µs", ""));
}

Console.WriteLine($"| metric | value | goal |{Environment.NewLine}|---|---|---|");
foreach (var (metric, value, goal) in rows) Console.WriteLine($"| {metric} | {value} | {goal} |");
if (threadRows.Count > 0)
{
    Console.WriteLine($"{Environment.NewLine}| daemon thread (steady window) | CPU s per minute | wake-ups per second |{Environment.NewLine}|---|---|---|");
    foreach (var (thread, cpu, wakes) in threadRows) Console.WriteLine($"| {thread} | {cpu} | {wakes} |");
}
if (rateRows.Count > 0)
{
    Console.WriteLine($"{Environment.NewLine}| rates (chrony, VMClock) | CPU s/min | vs floor | segment writes/s | RSS / Private_Dirty MB | threads | goal |");
    Console.WriteLine("|---|---|---|---|---|---|---|");
    foreach (var r in rateRows) Console.WriteLine($"| {r.Setting} | {r.Cpu} | {r.VsFloor} | {r.Writes} | {r.Memory} | {r.Threads} | {r.Goal} |");
    Console.WriteLine($"{Environment.NewLine}| rates: daemon thread (same window) | CPU s per minute | wake-ups per second |{Environment.NewLine}|---|---|---|");
    foreach (var (thread, cpu, wakes) in rateThreadRows) Console.WriteLine($"| {thread} | {cpu} | {wakes} |");
}
return 0;

static void WaitFor(Func<bool> condition, Child daemon, string what)
{
    var stopwatch = Stopwatch.StartNew();
    while (!condition())
    {
        if (stopwatch.Elapsed > TimeSpan.FromSeconds(60) || daemon.HasExited)
            throw new InvalidOperationException($"{what}: not within {stopwatch.Elapsed}: {daemon.Output}");
        Thread.Sleep(5);
    }
}

static double Median(List<double> values) => Percentile(values, 0.5);

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

/// <summary>What /proc says about a process: CPU, threads, memory.</summary>
internal static class Proc
{
    /// <summary>Each thread of <paramref name="pid"/>: name, CPU seconds and voluntary context switches.</summary>
    public static Dictionary<int, (string Name, double Cpu, long Wakes)> Threads(int pid)
    {
        var threads = new Dictionary<int, (string, double, long)>();
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
                // schedstat's first field: time on CPU in ns (finer than stat's 10 ms clock ticks).
                double cpu = ThreadCpuSeconds(task);
                long wakes = long.Parse(File.ReadLines(Path.Combine(task, "status"))
                    .Single(l => l.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)).Split(':')[1].Trim(), CultureInfo.InvariantCulture);
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = (name, cpu, wakes);
            }
            catch (IOException)
            {
                // The thread ended while we looked.
            }
        }
        return threads;
    }

    /// <summary>A thread's time on CPU in seconds (the first field of its schedstat, in ns).</summary>
    public static double ThreadCpuSeconds(string taskPath) =>
        long.Parse(File.ReadAllText(Path.Combine(taskPath, "schedstat")).Split(' ')[0], CultureInfo.InvariantCulture) / 1e9;

    /// <summary>utime + stime of the process (all threads), fields 14 and 15 of /proc/PID/stat, in USER_HZ (100 on Linux).</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Rss, Pss and Private_Dirty in kB from /proc/PID/smaps_rollup.</summary>
    public static (long Rss, long Pss, long PrivateDirty) Memory(int pid)
    {
        var lines = File.ReadAllLines($"/proc/{pid}/smaps_rollup");
        long Field(string name) => long.Parse(lines.Single(l => l.StartsWith(name + ":", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return (Field("Rss"), Field("Pss"), Field("Private_Dirty"));
    }
}

/// <summary>A daemon measured in a <see cref="MeasurementWindow"/>: <paramref name="Label"/> names it in errors.</summary>
internal sealed record WatchedDaemon(string Label, Child Daemon, string ShmPath);

/// <summary>One thread group of a daemon over a window: the threads of one name (all ".NET TP Worker"s, say).</summary>
internal sealed record ThreadGroup(string Label, double CpuPerMinute, double WakesPerSecond);

/// <summary>A daemon's figures over a window.</summary>
/// <param name="ProcessCpuPerMinute">utime + stime of /proc/PID/stat: every thread, also those that ran and ended in the
/// window, but in 10 ms ticks (±0.01 s per reading: coarse next to a daemon that needs 0.03 s a minute).</param>
/// <param name="ThreadCpuPerMinute">The sum of the threads' schedstat time on CPU (ns), each thread read once a second
/// during the window: exact for the threads alive at the end; a thread that ended counts up to its last reading.</param>
internal sealed record DaemonFigures(double ProcessCpuPerMinute, double ThreadCpuPerMinute, IReadOnlyList<ThreadGroup> ThreadGroups,
    int ThreadCount, double WritesPerSecond, (long Rss, long Pss, long PrivateDirty) Memory, int StatusChanges);

/// <summary>
/// A measurement window: daemons after their warm-up, and the floor next to them, measured over the same seconds.
/// </summary>
internal static class MeasurementWindow
{
    public static (IReadOnlyList<DaemonFigures> Daemons, double FloorCpuPerMinute) Run(int seconds, IReadOnlyList<WatchedDaemon> daemons)
    {
        var starts = daemons.Select(w => (Cpu: Proc.CpuSeconds(w.Daemon.Pid), Threads: Proc.Threads(w.Daemon.Pid),
            Generation: RawSegment.TryRead(w.ShmPath)?.Generation
                ?? throw new InvalidOperationException($"{w.Label}: no complete segment at the window's start"))).ToList();
        // Each thread's last reading: threads that end within the window keep the CPU they had when last seen.
        var lasts = starts.Select(s => new Dictionary<int, (string Name, double Cpu, long Wakes)>(s.Threads)).ToList();
        // The floor, measured in the same window: a bare thread of this process that does nothing but wake up every 10 ms
        // (as the daemon's VMClock thread does at its default period). What a wake-up costs moves with the machine's state
        // (an idle vCPU is dearer to wake), so the daemons' figures are only comparable across runs next to it.
        var stopFloor = new ClockBound.Io.WakeEvent();
        var floorThread = new TaskCompletionSource<OsThread>();
        var floor = new Thread(() =>
        {
            floorThread.SetResult(OsThread.Current());
            while (!stopFloor.Wait(TimeSpan.FromMilliseconds(10))) { }
        }) { IsBackground = true, Name = "floor-100hz" };
        floor.Start();
        var floorTask = floorThread.Task.Result;
        double floorCpu0 = Proc.ThreadCpuSeconds(floorTask.Path);
        var stopwatch = Stopwatch.StartNew();
        for (int s = 0; s < seconds; s++)
        {
            Thread.Sleep(TimeSpan.FromSeconds(1));
            for (int i = 0; i < daemons.Count; i++)
                foreach (var (tid, t) in Proc.Threads(daemons[i].Daemon.Pid))
                    lasts[i][tid] = t;
        }
        // Per the seconds that actually passed (the readings themselves take a little time).
        double elapsed = stopwatch.Elapsed.TotalSeconds, perMinute = 60.0 / elapsed;
        double floorCpu = (Proc.ThreadCpuSeconds(floorTask.Path) - floorCpu0) * perMinute;
        stopFloor.Set();
        floor.Join();

        var figures = new List<DaemonFigures>();
        for (int i = 0; i < daemons.Count; i++)
        {
            var (w, start, last) = (daemons[i], starts[i], lasts[i]);
            double processCpu = (Proc.CpuSeconds(w.Daemon.Pid) - start.Cpu) * perMinute;
            int threadCount = Directory.GetDirectories($"/proc/{w.Daemon.Pid}/task").Length;
            var memory = Proc.Memory(w.Daemon.Pid);
            if (RawSegment.TryRead(w.ShmPath) is not { } end || end.Generation == start.Generation)
                throw new InvalidOperationException($"{w.Label}: the daemon stopped publishing during the window; its log:{Environment.NewLine}{w.Daemon.Output}");
            // The sandbox's chronyd polls its server every 250 ms, so a few seconds without an accepted sample (a loaded
            // machine, a profiler) make its reference stale and the daemon rightly says FreeRunning for a while. That is
            // chronyd's state, not a fault of the daemon, whose cost is the same either way: say so next to the figures
            // instead of failing.
            // Counted from the first Synchronized: a start without a previous segment goes through Disrupted and Unknown first.
            var statusChanges = w.Daemon.Output.Split('\n').Where(line => line.Contains("Clock status ") && line.Contains(" -> ")).ToList();
            int firstSynchronized = statusChanges.FindIndex(line => line.Contains(" -> Synchronized"));
            int changesAfterSynchronized = firstSynchronized < 0 ? 0 : statusChanges.Count - 1 - firstSynchronized;
            if (changesAfterSynchronized > 0)
                Console.Error.WriteLine($"note: {w.Label}: the clock status changed during the run (chronyd's own state):{Environment.NewLine}{string.Join(Environment.NewLine, statusChanges)}");
            // Per thread (grouped by name), CPU and wake-ups (voluntary context switches: each is one block, so one
            // wake-up). A thread born in the window counts from zero.
            var groups = last
                .Select(t => (t.Value.Name, Cpu: t.Value.Cpu - (start.Threads.TryGetValue(t.Key, out var b) ? b.Cpu : 0),
                    Wakes: t.Value.Wakes - (start.Threads.TryGetValue(t.Key, out var c) ? c.Wakes : 0)))
                .GroupBy(t => t.Name)
                .Select(g => (Name: g.Key, Count: g.Count(), Cpu: g.Sum(t => t.Cpu) * perMinute, Wakes: g.Sum(t => t.Wakes) / elapsed))
                .Where(g => g.Cpu > 0 || g.Wakes > 0)
                .OrderByDescending(g => g.Cpu)
                .Select(g => new ThreadGroup(g.Count > 1 ? $"{g.Name} (×{g.Count})" : g.Name, g.Cpu, g.Wakes))
                .ToList();
            // Each write adds 2 to the generation (mod 65536); in steady state there is one write per chrony poll.
            double writesPerSecond = (ushort)(end.Generation - start.Generation) / 2.0 / elapsed;
            figures.Add(new DaemonFigures(processCpu, groups.Sum(g => g.CpuPerMinute), groups, threadCount, writesPerSecond, memory,
                changesAfterSynchronized));
            // The JIT moves a method to tier 1 after 30 calls: at 1 s polls that takes half a minute, so a shorter warm-up
            // measures the rejit too (the thread ends when it has nothing left to compile).
            if (groups.Any(g => g.Label.StartsWith(".NET Tiered", StringComparison.Ordinal)))
                Console.Error.WriteLine($"note: {w.Label}: the JIT's tiered compilation worker ran in the window (a longer --warmup leaves it out)");
        }
        return (figures, floorCpu);
    }
}

/// <summary>A child process with its output kept (the daemon's logs, for errors); stopped with SIGTERM, by PID.</summary>
internal sealed partial class Child : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new();

    private Child(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output { get { lock (_output) return _output.ToString(); } }

    public static Child Start(string program, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        psi.Environment.Remove("NOTIFY_SOCKET");
        return new Child(Process.Start(psi)!);
    }

    public void Stop()
    {
        if (_process.HasExited) return;
        _process.StandardInput.Close(); // ends the empty app
        _ = Kill(_process.Id, 15);
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10))) _process.Kill();
        _process.WaitForExit();
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stop();
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

internal sealed record Options(string Daemon, string Empty, int Starts, int Bumps, int WarmupSeconds, int SteadySeconds,
    int RoundTrips, HashSet<string> Only, string[] DaemonExtra)
{
    public bool Runs(string part) => Only.Count == 0 || Only.Contains(part);

    public static Options Parse(string[] args)
    {
        int split = Array.IndexOf(args, "--");
        var own = split < 0 ? args : args[..split];
        var extra = split < 0 ? [] : args[(split + 1)..];
        string? Get(string name) => Array.IndexOf(own, name) is var i and >= 0 && i + 1 < own.Length ? own[i + 1] : null;
        int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        return new Options(
            Get("--daemon") ?? throw new ArgumentException("--daemon PATH (the published clockbound) is required"),
            Get("--empty") ?? throw new ArgumentException("--empty PATH (the published empty console app) is required"),
            Int("--starts", 10), Int("--bumps", 50), Int("--warmup", 20), Int("--steady", 60), Int("--rtt", 2000),
            Get("--only") is { } only ? [.. only.Split(',')] : [],
            extra);
    }
}
