namespace ClockBound.Soak;

/// <summary>The fault classes of tests/ClockBound.Faults.Tests, as the soak injects them.</summary>
internal enum FaultClass
{
    /// <summary>The chronyd client stopped, then started again.</summary>
    ChronydRestart,
    /// <summary>The client's source offline (and its sources reset), then online again.</summary>
    SourceOffline,
    /// <summary>The VMClock marker changes in one complete update.</summary>
    VmClockBump,
    /// <summary>The VMClock caught mid-update (odd seq_count, new marker written) for a while, then completed.</summary>
    VmClockTorn,
    /// <summary>SIGUSR1 (forced Disrupted), held, then SIGUSR2.</summary>
    Usr1Usr2,
    /// <summary>The log file moved away (as logrotate does), then SIGHUP.</summary>
    Sighup,
    /// <summary>SIGKILL of the daemon, then a new one on the same segment (warm restart).</summary>
    KillRestart,
    /// <summary>SIGKILL, the segment truncated or its magic corrupted, then a new daemon (which repairs it: a fresh file).</summary>
    CorruptRestart,
}

/// <summary>One planned fault: its class, how long it is held before it is healed, the quiet gap after the recovery, and
/// for <see cref="FaultClass.CorruptRestart"/> whether the segment is truncated (else its magic is corrupted).</summary>
internal sealed record PlannedFault(FaultClass Class, TimeSpan Hold, TimeSpan Gap, bool Truncate);

/// <summary>
/// The whole campaign, drawn from the seed before anything starts (so a seed names one sequence of faults, holds and gaps;
/// only the recoveries' durations vary from run to run). A daemon restart (kill or corrupted segment) is planned only
/// once the current daemon has run <see cref="MinRunBeforeRestart"/>, so that each run is long enough to measure.
/// </summary>
internal static class Schedule
{
    /// <summary>Holds: long enough for the daemon to notice (a poll is 100 ms, the FreeRunning grace 5 s, the VMClock
    /// heartbeat 1 s) and, for the longer ones, to reach Unknown; short enough to fit many faults in a short run.</summary>
    private static readonly TimeSpan MinHold = TimeSpan.FromSeconds(1), MaxHold = TimeSpan.FromSeconds(12);

    /// <summary>Quiet time after each recovery: the daemon runs undisturbed, as on a host between incidents.</summary>
    private static readonly TimeSpan MinGap = TimeSpan.FromSeconds(5), MaxGap = TimeSpan.FromSeconds(20);

    /// <summary>What a fault with its recovery takes beyond hold and gap, for planning only (resynchronisation after
    /// a chronyd reset is a few seconds on loopback).</summary>
    private static readonly TimeSpan PlannedRecovery = TimeSpan.FromSeconds(5);

    /// <summary>Chance of a restart fault once one is allowed: high, so that restarts come soon after the minimum run.</summary>
    private const double RestartChance = 0.5;

    private static readonly FaultClass[] Ordinary =
    [
        FaultClass.ChronydRestart, FaultClass.SourceOffline, FaultClass.VmClockBump, FaultClass.VmClockTorn,
        FaultClass.Usr1Usr2, FaultClass.Sighup,
    ];

    /// <summary>A third of the soak, between 1 and 20 minutes: a 60-minute soak has two or three daemon runs of 20
    /// minutes or more, each measured after its 5-minute warm-up; a 3-minute one still restarts twice.</summary>
    public static TimeSpan MinRunBeforeRestart(TimeSpan duration) =>
        TimeSpan.FromTicks(Math.Clamp(duration.Ticks / 3, TimeSpan.FromMinutes(1).Ticks, TimeSpan.FromMinutes(20).Ticks));

    /// <summary>The campaign of <paramref name="seed"/>; no restart before the current daemon has run <paramref name="minRun"/>
    /// (planned time).</summary>
    public static IReadOnlyList<PlannedFault> Plan(int seed, TimeSpan duration, TimeSpan minRun)
    {
        var random = new Random(seed);
        var plan = new List<PlannedFault>();
        var at = TimeSpan.Zero;
        var runStart = TimeSpan.Zero;
        // Planned past the end: the driver stops at the deadline, however long the recoveries really took.
        while (at < 2 * duration)
        {
            bool restart = at - runStart >= minRun && random.NextDouble() < RestartChance;
            var cls = restart
                ? (random.Next(2) == 0 ? FaultClass.KillRestart : FaultClass.CorruptRestart)
                : Ordinary[random.Next(Ordinary.Length)];
            var hold = Between(random, MinHold, MaxHold);
            var gap = Between(random, MinGap, MaxGap);
            plan.Add(new PlannedFault(cls, hold, gap, random.Next(2) == 0));
            at += hold + PlannedRecovery + gap;
            if (restart) runStart = at;
        }
        return plan;
    }

    private static TimeSpan Between(Random random, TimeSpan min, TimeSpan max) =>
        TimeSpan.FromMilliseconds(min.TotalMilliseconds + random.NextDouble() * (max - min).TotalMilliseconds);
}
