using System.Diagnostics;
using System.Globalization;
using ClockBound.Faults.Tests;
using ClockBound.Io.Segment;
using ClockBound.ReaderProcess;
using ClockBound.TestSupport;

namespace ClockBound.Soak;

/// <summary>
/// One soak: a sandboxed chronyd pair (-x, loopback), a fake VMClock file, the published daemon and four reader processes,
/// with the planned faults injected one after another, each healed and recovered from before a quiet gap. Disposing
/// stops everything it started (daemon and readers by their own handles and PIDs, chronyd by its pidfile).
/// </summary>
internal sealed class Soak : IAsyncDisposable
{
    private const int Readers = 4;

    /// <summary>--max-drift-rate of the daemon, as the Faults tests' scenario (chrony's maxclockerror 50).</summary>
    private const string MaxDriftPpm = "50";

    /// <summary>Back to Synchronized with the current marker after a healed fault: a chronyd reset and burst resynchronise
    /// loopback chronyd in seconds; a reset refused by a stopped chronyd is retried after the 10 s cool-down.</summary>
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Start-up, readers' start and stop, a daemon's first record: generous on a loaded 2-core machine.</summary>
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How often the check loop follows the timeline (the timeline itself reads every millisecond).</summary>
    private static readonly TimeSpan CheckPeriod = TimeSpan.FromMilliseconds(200);

    /// <summary>The leak sampling period the issue asks for.</summary>
    private static readonly TimeSpan SamplePeriod = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan ConditionPoll = TimeSpan.FromMilliseconds(50);

    private readonly TempDirectory _dir = new("cbsoak");
    private readonly List<DaemonProcess> _daemons = [];
    private readonly List<ReaderProcessRun> _readers = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    /// <summary>Scrapes the daemon's metrics endpoint for the GC heap (one request a minute, as a Prometheus would make).</summary>
    private readonly HttpClient _metrics = new() { Timeout = TimeSpan.FromSeconds(5) };
    /// <summary>The current daemon's --metrics-listen port (a new one for each run).</summary>
    private int _metricsPort;
    private readonly Invariants _invariants;
    private ChronydSandbox? _sandbox;
    private FakeVmClock? _vmClock;
    private DaemonProcess? _daemon;
    private TimeSpan _runStartedAt;
    private volatile bool _restarting;

    public Soak(TimeSpan warmUp)
    {
        _invariants = new Invariants(() => { lock (_daemons) return [.. _daemons]; }, () => _sandbox?.Client.ReadLog() ?? "");
        Resources = new ResourceLog(warmUp);
    }

    public Dictionary<FaultClass, int> Injected { get; } = Enum.GetValues<FaultClass>().ToDictionary(c => c, _ => 0);

    public ResourceLog Resources { get; }

    public ReaderTotals ReaderTotals { get; } = new();

    public IReadOnlyList<string> Violations => _invariants.Violations;

    public long RecordsChecked => _invariants.RecordsChecked;

    public long TransitionsChecked => _invariants.TransitionsChecked;

    public int DaemonRuns => _daemons.Count;

    private string ShmPath => _dir.Combine("run", "shm0");

    private string LogPath => _dir.Combine("clockbound.log");

    private ChronydSandbox Sandbox => _sandbox!;

    private FakeVmClock VmClock => _vmClock!;

    private DaemonProcess Daemon => _daemon!;

    public async Task RunAsync(IReadOnlyList<PlannedFault> plan, TimeSpan duration, CancellationToken cancel)
    {
        _sandbox = await ChronydSandbox.StartPairAsync();
        await Sandbox.WaitSynchronisedAsync(ProcessTimeout);
        _vmClock = FakeVmClock.Create(_dir.Combine("vmclock0"));
        // The log file gives SIGHUP something to reopen.
        File.WriteAllText(_dir.Combine("soak.conf"), $"clockbound.log-file = \"{LogPath}\"\n");

        await StartDaemonAsync(cancel);
        await WaitRecoveredAsync("the first start", 0, cancel);
        _invariants.Follow(ShmPath);
        await StartReadersAsync();
        Log($"daemon pid {Daemon.Pid} Synchronized, {Readers} readers reading; faults start");

        using var loops = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var checking = CheckLoopAsync(loops.Token);
        var sampling = SampleLoopAsync(loops.Token);
        try
        {
            foreach (var fault in plan)
            {
                if (_clock.Elapsed + fault.Hold >= duration) break;
                await InjectAsync(fault, cancel);
                await Task.Delay(fault.Gap, cancel);
                if (_clock.Elapsed >= duration) break;
            }
            await SampleAsync();
            await StopReadersAsync();
            if (Daemon.HasExited) _invariants.Violation($"the daemon exited with {Daemon.WaitForExitAsync(ProcessTimeout).Result}");
        }
        finally
        {
            loops.Cancel();
            await IgnoreCancellation(checking);
            await IgnoreCancellation(sampling);
            lock (_invariants.Gate) _invariants.Finish();
        }
    }

    private async Task InjectAsync(PlannedFault fault, CancellationToken cancel)
    {
        string held = fault.Class is FaultClass.VmClockBump or FaultClass.Sighup ? "" : $", held {fault.Hold.TotalSeconds:0.0} s";
        string how = fault.Class == FaultClass.CorruptRestart ? fault.Truncate ? " (truncated)" : " (bad magic)" : "";
        Log($"{fault.Class}{held}{how}");
        Injected[fault.Class]++;
        int from;
        switch (fault.Class)
        {
            case FaultClass.ChronydRestart:
                Sandbox.StopClient();
                await Task.Delay(fault.Hold, cancel);
                await Sandbox.StartClientAgainAsync();
                break;
            case FaultClass.SourceOffline:
                await Sandbox.OfflineAndResetAsync();
                await Task.Delay(fault.Hold, cancel);
                await Sandbox.OnlineAsync();
                break;
            case FaultClass.VmClockBump:
                lock (_invariants.Gate) _invariants.MarkerChanged(VmClock.BumpMarker());
                break;
            case FaultClass.VmClockTorn:
                VmClock.BeginTornUpdate();
                ulong marker = VmClock.Marker + 1;
                VmClock.Update(VmClock.Current with { DisruptionMarker = marker });
                await Task.Delay(fault.Hold, cancel);
                // The marker becomes visible to the daemon (and its clients) when the update completes.
                lock (_invariants.Gate)
                {
                    _invariants.MarkerChanged(marker);
                    VmClock.EndUpdate();
                }
                break;
            case FaultClass.Usr1Usr2:
                Daemon.Signal(DaemonProcess.SIGUSR1);
                await Task.Delay(fault.Hold, cancel);
                Daemon.Signal(DaemonProcess.SIGUSR2);
                break;
            case FaultClass.Sighup:
                if (File.Exists(LogPath)) File.Move(LogPath, LogPath + ".1", overwrite: true);
                Daemon.Signal(Sighup);
                await Daemon.WaitUntilAsync(() => File.Exists(LogPath), ProcessTimeout, "the log file reopened after SIGHUP");
                break;
            case FaultClass.KillRestart:
            case FaultClass.CorruptRestart:
                from = await RestartAsync(fault, cancel);
                await WaitRecoveredAsync(fault.Class.ToString(), from, cancel);
                return;
        }
        from = _invariants.Entries.Count;
        await WaitRecoveredAsync(fault.Class.ToString(), from, cancel);
    }

    /// <summary>SIGKILL, then (after the hold) a new daemon on the same segment, or on a truncated or corrupted one, which it
    /// must replace by a fresh file. Returns the timeline index from which the recovery is awaited.</summary>
    private async Task<int> RestartAsync(PlannedFault fault, CancellationToken cancel)
    {
        await SampleAsync(); // the run's last figures
        bool corrupt = fault.Class == FaultClass.CorruptRestart;
        // Clients mapping a segment that is truncated under them would fault: the readers stop before and start again on
        // the repaired file, as clients reopen a segment they find unusable.
        if (corrupt) await StopReadersAsync();
        _restarting = true;
        Daemon.Signal(DaemonProcess.SIGKILL);
        await Daemon.WaitForExitAsync(ProcessTimeout);
        long inode = Inode(ShmPath);
        lock (_invariants.Gate)
        {
            if (corrupt) _invariants.Unfollow();
            else _invariants.BeginRun(_daemons.Count + 1);
        }
        if (corrupt)
        {
            using var file = File.OpenHandle(ShmPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            if (fault.Truncate) RandomAccess.SetLength(file, TruncatedLength);
            else RandomAccess.Write(file, "XXXX"u8, fileOffset: 0); // the magic's first word
        }
        await Task.Delay(fault.Hold, cancel);
        await StartDaemonAsync(cancel);
        _restarting = false;
        if (corrupt)
        {
            // Only a fresh file may be followed: the corrupted one (header otherwise intact) is still at the path until
            // the daemon renames the new one over it.
            try
            {
                await Daemon.WaitUntilAsync(() => Inode(ShmPath) != inode && Published(ShmPath), ProcessTimeout,
                    "the corrupted segment replaced by a fresh file and published");
            }
            catch (TimeoutException e)
            {
                _invariants.Violation(e.Message);
                throw;
            }
            lock (_invariants.Gate) _invariants.Follow(ShmPath);
            await StartReadersAsync();
        }
        else if (Inode(ShmPath) != inode)
        {
            _invariants.Violation("a warm restart replaced a valid segment");
        }
        return corrupt ? 0 : _invariants.Entries.Count;
    }

    private async Task StartDaemonAsync(CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        // With its metrics endpoint, as a fleet watched by Prometheus runs it; the soak scrapes it once a minute.
        _metricsPort = LocalPorts.FreeTcp();
        var daemon = DaemonProcess.Start(
            ["--max-drift-rate", MaxDriftPpm, "-c", _dir.Combine("soak.conf"), "--chrony-socket", Sandbox.ClientSocketPath,
             "--shm-path", ShmPath, "--vmclock-path", VmClock.Path, "--metrics-listen", $"127.0.0.1:{_metricsPort}"],
            // Workstation GC, as a console daemon has by default: said explicitly, since the leak figures depend on it.
            new Dictionary<string, string?> { ["DOTNET_gcServer"] = "0" });
        lock (_daemons) _daemons.Add(daemon);
        _daemon = daemon;
        _runStartedAt = _clock.Elapsed;
        await daemon.WaitUntilAsync(() => Published(ShmPath), ProcessTimeout, "a published segment");
    }

    /// <summary>A usable segment at <paramref name="path"/>: right magic, layout version 2, written at least once.</summary>
    private static bool Published(string path) =>
        RawSegment.TryRead(path) is { Version: 2, Generation: > 0 } s && s.Magic.AsSpan().SequenceEqual(RawSegment.ExpectedMagic);

    /// <summary>Waits for a Synchronized record with the VMClock's current marker at or after timeline entry
    /// <paramref name="from"/>; a time-out is a violation (the soak goes on).</summary>
    private async Task WaitRecoveredAsync(string after, int from, CancellationToken cancel)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            ulong marker = VmClock.Marker;
            bool recovered = _invariants.Entries.Count == 0 && from == 0
                ? RawSegment.TryRead(ShmPath) is { ClockStatus: RawSegment.Synchronized } s && s.DisruptionMarker == marker // not followed yet
                : _invariants.Entries.Skip(from).Any(e => e.Status == ClockStatus.Synchronized && e.Record.DisruptionMarker == marker);
            if (recovered) return;
            if (stopwatch.Elapsed > RecoveryTimeout || Daemon.HasExited)
            {
                _invariants.Violation($"not Synchronized with marker {marker} within {RecoveryTimeout.TotalSeconds} s after {after}" +
                                      $"{(Daemon.HasExited ? " (the daemon exited)" : "")}; last records:\n{_invariants.DescribeTail(10)}\n" +
                                      $"daemon output (tail):\n{string.Join('\n', Daemon.Output.TakeLast(30))}");
                return;
            }
            await Task.Delay(ConditionPoll, cancel);
        }
    }

    private async Task StartReadersAsync()
    {
        for (int i = 1; i <= Readers; i++)
        {
            // MAX_READS 0: no limit; they stop when told to, the seconds only bound a driver that died.
            _readers.Add(ReaderProcessRun.Start($"reader {i}",
                ["read", ShmPath, VmClock.Path, ReaderSafetySeconds, "0", "--stop-on-stdin"]));
        }
        foreach (var reader in _readers) await reader.WaitReadyAsync(ProcessTimeout);
    }

    private async Task StopReadersAsync()
    {
        foreach (var reader in _readers) reader.Send("stop");
        foreach (var reader in _readers)
        {
            try
            {
                var (exitCode, summary) = await reader.WaitForSummaryAsync(ProcessTimeout);
                ReaderTotals.Add(reader.Name, exitCode, summary);
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException)
            {
                ReaderTotals.Lost(reader.Name, e.Message);
            }
            await reader.DisposeAsync();
        }
        _readers.Clear();
    }

    private async Task CheckLoopAsync(CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(CheckPeriod);
        while (await timer.WaitForNextTickAsync(cancel))
        {
            lock (_invariants.Gate) _invariants.Check();
            if (!_restarting && _daemon is { HasExited: true } d && !_reportedExit.Contains(d))
            {
                _reportedExit.Add(d);
                _invariants.Violation($"the daemon (pid {d.Pid}) exited on its own:\n{string.Join('\n', d.Output.TakeLast(30))}");
            }
        }
    }

    private readonly HashSet<DaemonProcess> _reportedExit = [];

    private async Task SampleLoopAsync(CancellationToken cancel)
    {
        using var timer = new PeriodicTimer(SamplePeriod);
        while (await timer.WaitForNextTickAsync(cancel))
            await SampleAsync();
    }

    private async Task SampleAsync()
    {
        if (_restarting || _daemon is not { HasExited: false } daemon) return;
        long? gcHeapKb = await GcHeapKilobytesAsync();
        if (ResourceSample.Take(_daemons.Count, _clock.Elapsed - _runStartedAt, daemon.Pid, gcHeapKb) is { } sample)
        {
            Resources.Add(sample);
            Log($"run {sample.Run} at {sample.RunAge.TotalMinutes:0.0} min: RSS {sample.RssKb} kB, Private_Dirty {sample.PrivateDirtyKb} kB, " +
                $"GC heap {(sample.GcHeapKb is { } kb ? $"{kb} kB" : "not scraped")}, {sample.Fds} fds, {sample.Threads} threads " +
                $"(RSS kB: anonymous {sample.Rss.AnonymousKb}, code {sample.Rss.CodeKb}, files {sample.Rss.FilesKb})");
        }
    }

    /// <summary>dotnet_total_memory_bytes from the daemon's metrics endpoint, in kB; null when the scrape fails.</summary>
    private async Task<long?> GcHeapKilobytesAsync()
    {
        try
        {
            var text = await _metrics.GetStringAsync($"http://127.0.0.1:{_metricsPort}/metrics");
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("dotnet_total_memory_bytes ", StringComparison.Ordinal));
            return line is null ? null : (long)(double.Parse(line[(line.IndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) / 1024);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or FormatException)
        {
            return null;
        }
    }

    private void Log(string line) => Console.WriteLine($"[{_clock.Elapsed:hh\\:mm\\:ss}] {line}");

    private static async Task IgnoreCancellation(Task task)
    {
        try { await task; }
        catch (OperationCanceledException) { }
    }

    /// <summary>The inode number of <paramref name="path"/>: a repaired segment is a new file.</summary>
    private static long Inode(string path)
    {
        if (!File.Exists(path)) return 0;
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        string output = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return long.Parse(output, CultureInfo.InvariantCulture);
    }

    /// <summary>The readers run until told to stop; this only bounds them if the driver dies without telling them.</summary>
    private const string ReaderSafetySeconds = "86400";

    /// <summary>Half a record: the header survives, the record does not (BadSegmentSpecs' "truncated (40 of 80 bytes)").</summary>
    private const long TruncatedLength = 40;

    private const int Sighup = 1;

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var reader in _readers) await reader.DisposeAsync();
            foreach (var daemon in _daemons) await daemon.DisposeAsync();
            _invariants.Dispose();
            _metrics.Dispose();
            _vmClock?.Dispose();
            if (_sandbox is not null) await _sandbox.DisposeAsync();
        }
        finally
        {
            _dir.Dispose();
        }
    }
}

/// <summary>The reader processes' summaries, added up over every reader of every segment file.</summary>
internal sealed class ReaderTotals
{
    private readonly List<string> _problems = [];

    public long Reads { get; private set; }

    public long Torn { get; private set; }

    public long Failed { get; private set; }

    public int Processes { get; private set; }

    public IReadOnlyList<string> Problems => _problems;

    public void Add(string name, int exitCode, ReaderSummary summary)
    {
        Processes++;
        Reads += summary.Count;
        Torn += summary.Inconsistent;
        Failed += summary.Errors + (exitCode != 0 && summary.Clean ? 1 : 0);
        if (!summary.Clean || exitCode != 0) _problems.Add($"{name}: exit {exitCode}, first problem: {summary.FirstProblem}");
    }

    public void Lost(string name, string why)
    {
        Processes++;
        Failed++;
        _problems.Add($"{name}: {why}");
    }
}
