using ClockBound.Io.Bound;

namespace ClockBound.Actors;

/// <summary>
/// Everything the actors need, resolved from config/clockbound.conf (HOCON, section <c>clockbound</c>)
/// and the command line. Immutable; the host builds it once.
/// </summary>
public sealed record ClockBoundSettings
{
    // --- paths (defaults are the reference daemon's fixed paths) ---
    public string ShmPath { get; init; } = "/var/run/clockbound/shm0";
    public string ChronySocketPath { get; init; } = "/var/run/chrony/chronyd.sock";
    /// <summary>Directory of the daemon's own chrony client socket; null = the directory of chronyd's socket (as chronyc).</summary>
    public string? ChronyClientSocketDirectory { get; init; }
    public string VmClockPath { get; init; } = "/dev/vmclock0";
    public string SysfsRoot { get; init; } = "/";

    // --- behaviour (reference options) ---
    /// <summary>-m PPM × 1000. Default 1 ppm, as the reference (which warns it is likely wrong).</summary>
    public uint MaxDriftPpb { get; init; } = 1_000;
    public bool ClockDisruptionSupportEnabled { get; init; } = true;
    /// <summary>-r/-i: chrony reference id under which the PHC appears, and its network interface; both or neither.</summary>
    public uint? PhcReferenceId { get; init; }
    public string? PhcInterface { get; init; }

    // --- timing ---
    /// <summary>100 ms: the reference's period since 2.0.3.</summary>
    public TimeSpan ChronyPollInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary>1 s per request, as chronyc.</summary>
    public TimeSpan ChronyTimeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>35 ms: a disruption reaches the segment within one poll period plus the publish path (p99 within the
    /// 50 ms goal), with 29 wake-ups a second where 15 ms took 66, the largest part of the idle cost. Clients see a
    /// disruption at once anyway (they compare the device's marker with the segment's on every read); this period only
    /// moves the start of chronyd's reset (docs/performance-notes.md, "Round 5").</summary>
    public TimeSpan VmClockPollInterval { get; init; } = TimeSpan.FromMilliseconds(35);
    /// <summary>The VMClock watcher reports the (unchanged) marker at least this often, so the state machine sees "Reliable".</summary>
    public TimeSpan VmClockHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>1 s: the PHC error bound in sysfs changes slowly.</summary>
    public TimeSpan PhcReadInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>The oldest PHC error bound a poll referenced to the PHC may use: three read intervals, so a late read or
    /// two are tolerated, but a sysfs read that hangs makes such polls fail within seconds (the reference reads the bound
    /// in every poll, so a hang there stops its publication; a cached value must not outlive it unnoticed).</summary>
    public TimeSpan PhcMaxAge => 3 * PhcReadInterval;
    /// <summary>A PHC read still running after one read interval is reported as failed (a sysfs attribute answers in
    /// microseconds; one that has not answered in a second hangs). The read itself cannot be cancelled.</summary>
    public TimeSpan PhcReadTimeout => PhcReadInterval;
    /// <summary>5 s: a failed poll within this time of the last good as_of is FreeRunning (chronyd restarts are normal), Unknown after.</summary>
    public TimeSpan RestartGrace { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>1000 s: void_after = as_of + this (reference value).</summary>
    public TimeSpan VoidAfter { get; init; } = TimeSpan.FromSeconds(1000);
    /// <summary>chrony's 8-sample register: reference older than 8 update intervals is stale.</summary>
    public double StaleFactor { get; init; } = ErrorBoundCalculator.DefaultStaleFactor;

    // --- chronyd reset after a disruption (reference values) ---
    public int ResetTries { get; init; } = 30;
    public TimeSpan ResetRetryInterval { get; init; } = TimeSpan.FromMilliseconds(5);
    public int BurstTries { get; init; } = 30;
    public TimeSpan BurstRetryInterval { get; init; } = TimeSpan.FromMilliseconds(100);
    public int BurstGoodSamples { get; init; } = 4;
    public int BurstTotalSamples { get; init; } = 8;
    /// <summary>10 s: wait after all tries failed, then start again, forever.</summary>
    public TimeSpan ResetCooldown { get; init; } = TimeSpan.FromSeconds(10);

    // --- supervision of the I/O actors ---
    public TimeSpan RestartBackoffMin { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan RestartBackoffMax { get; init; } = TimeSpan.FromSeconds(10);
    public double RestartBackoffRandomFactor { get; init; } = 0.2;
}
