using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.Io.VmClock;

namespace ClockBound.Client;

/// <summary>
/// A ClockBound client: maps the daemon's segment read-only and computes bounded time exactly as the reference
/// clients do (docs/segment-format.md). Safe to use from many threads at once; <see cref="Now"/> takes no lock and
/// does not allocate.
/// </summary>
public sealed class ClockBoundClient : IDisposable
{
    /// <summary>The reference daemon's segment path.</summary>
    public const string DefaultShmPath = "/var/run/clockbound/shm0";
    /// <summary>The VMClock device the reference clients compare markers with.</summary>
    public const string DefaultVmClockPath = "/dev/vmclock0";

    private readonly SegmentReader _segment;
    private readonly string _vmClockPath;
    // Opened the first time the segment says disruption support is enabled, as the reference clients do.
    private VmClockReader? _vmClock;
    // Tests only: the clock readings IsBefore, IsAfter and WaitUntilAfterAsync use instead of the real clocks (null:
    // the real ones). Now() never looks at it, so its cost is untouched.
    private readonly Func<(Timespec Realtime, Timespec MonotonicCoarse)>? _testClocks;

    private ClockBoundClient(SegmentReader segment, string vmClockPath, Func<(Timespec, Timespec)>? testClocks = null)
    {
        _segment = segment;
        _vmClockPath = vmClockPath;
        _testClocks = testClocks;
    }

    /// <summary>Maps the segment read-only; the VMClock device is opened later, when the segment first says disruption
    /// support is enabled. Throws <see cref="ClockBoundException"/> naming the path: SegmentNotInitialized (missing,
    /// bad magic, version 0, never written), SegmentVersionNotSupported (version != 2), SegmentMalformed (too short),
    /// Syscall with <see cref="ClockBoundException.Errno"/> (open or mmap failed, e.g. permission denied).</summary>
    public static ClockBoundClient Open(string shmPath = DefaultShmPath, string vmClockPath = DefaultVmClockPath) =>
        new(SegmentReader.Open(shmPath), vmClockPath);

    /// <summary><see cref="Open"/> with a controllable clock: <paramref name="clocks"/> returns the CLOCK_REALTIME and
    /// CLOCK_MONOTONIC_COARSE readings that IsBefore, IsAfter and WaitUntilAfterAsync use (tests of their exact edges).</summary>
    internal static ClockBoundClient OpenWithClocks(string shmPath, string vmClockPath, Func<(Timespec Realtime, Timespec MonotonicCoarse)> clocks) =>
        new(SegmentReader.Open(shmPath), vmClockPath, clocks);

    /// <summary>The segment's path.</summary>
    public string ShmPath => _segment.Path;

    /// <summary>
    /// The interval that contains true time now, and the clock status. When the segment says disruption support is
    /// enabled and the VMClock device's marker differs from the segment's, the status is Unknown: the daemon has not
    /// caught up with a disruption yet. Throws <see cref="ClockBoundException"/>: SegmentMalformed (drift of 1e9 ppb or
    /// more), CausalityBreach (as_of more than 1 µs ahead of this host's CLOCK_MONOTONIC_COARSE), Syscall (the VMClock
    /// device is needed but cannot be opened or is not a VMClock device).
    /// </summary>
    public ClockBoundTime Now()
    {
        ref readonly ClockErrorBound bound = ref _segment.Snapshot();
        // Realtime first, then the coarse monotonic clock: a late monotonic read only makes the bound larger.
        Timespec realtime = Clocks.Realtime();
        Timespec monotonic = Clocks.MonotonicCoarse();
        return Compute(in bound, realtime, monotonic);
    }

    /// <summary><see cref="Now"/> at fixed clock readings (tests compare it with the spec's reference computation).</summary>
    internal ClockBoundTime NowAt(Timespec realtime, Timespec monotonicCoarse) => Compute(in _segment.Snapshot(), realtime, monotonicCoarse);

    private ClockBoundTime NowAt((Timespec Realtime, Timespec MonotonicCoarse) clocks) => NowAt(clocks.Realtime, clocks.MonotonicCoarse);

    private ClockBoundTime Compute(in ClockErrorBound bound, Timespec realtime, Timespec monotonicCoarse)
    {
        (ClockStatus status, long boundNs) = ClockBoundNow.StatusAndBound(bound, monotonicCoarse, _segment.Path);
        if (bound.ClockDisruptionSupportEnabled && !MarkerMatches(bound.DisruptionMarker))
            status = ClockStatus.Unknown;
        long realtimeNs = realtime.TotalNanoseconds;
        return new ClockBoundTime(SaturatingAdd(realtimeNs, -boundNs), SaturatingAdd(realtimeNs, boundNs), boundNs, status);
    }

    /// <summary>a + b, clamped to the range of long (a bound read from a corrupt segment can be huge).</summary>
    private static long SaturatingAdd(long a, long b)
    {
        long sum = a + b;
        // Overflow happened when both operands have the same sign and the sum's sign differs.
        return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : sum;
    }

    /// <summary>True when <paramref name="unixNanoseconds"/> is definitely in the past: before the earliest possible true time now.</summary>
    public bool IsBefore(long unixNanoseconds)
    {
        var now = UsableNow();
        return unixNanoseconds < now.EarliestNanoseconds;
    }

    /// <summary>True when <paramref name="unixNanoseconds"/> is definitely in the future: after the latest possible true time now.</summary>
    public bool IsAfter(long unixNanoseconds)
    {
        var now = UsableNow();
        return unixNanoseconds > now.LatestNanoseconds;
    }

    /// <summary>True when the whole 100 ns tick of <paramref name="timestamp"/> is definitely in the past.</summary>
    public bool IsBefore(DateTimeOffset timestamp) => IsBefore(LastNanosecondOf(timestamp));

    /// <summary>True when the whole 100 ns tick of <paramref name="timestamp"/> is definitely in the future.</summary>
    public bool IsAfter(DateTimeOffset timestamp) => IsAfter(FirstNanosecondOf(timestamp));

    /// <summary>
    /// Commit-wait: completes once the earliest possible true time has passed <paramref name="unixNanoseconds"/>, so that
    /// every host agrees the timestamp is in the past. Throws <see cref="ClockNotUsableException"/> at once if the status
    /// is Unknown or Disrupted, and as soon as it becomes so while waiting (the status is re-checked at least every
    /// 100 ms); <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task WaitUntilAfterAsync(long unixNanoseconds, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = UsableNow();
            long remaining = unixNanoseconds - now.EarliestNanoseconds;
            if (remaining < 0) return;
            // Sleep for most of the remaining time (timers fire up to ~1 ms late), then yield until it has passed.
            if (remaining >= SpinBelowNanoseconds)
                await Task.Delay(TimeSpan.FromTicks(Math.Min(remaining - TimerSlackNanoseconds, MaxSleepNanoseconds) / 100),
                    cancellationToken).ConfigureAwait(false);
            else
                await Task.Yield();
        }
    }

    /// <summary>Below this much remaining time, yielding beats a timer that may fire a millisecond late.</summary>
    private const long SpinBelowNanoseconds = 2_000_000;

    /// <summary>How much earlier than the remaining time a sleep ends, to absorb a late timer.</summary>
    private const long TimerSlackNanoseconds = 1_000_000;

    /// <summary>The longest sleep between two status checks: the daemon's publication period, so that a disruption
    /// published while waiting ends the wait within one update.</summary>
    private const long MaxSleepNanoseconds = 100_000_000;

    /// <summary>Same as <see cref="WaitUntilAfterAsync(long, CancellationToken)"/> for a <see cref="DateTimeOffset"/>.</summary>
    public Task WaitUntilAfterAsync(DateTimeOffset timestamp, CancellationToken cancellationToken = default) =>
        WaitUntilAfterAsync(LastNanosecondOf(timestamp), cancellationToken);

    /// <summary>A <see cref="DateTimeOffset"/> stands for its whole 100 ns tick: these are its first and last nanosecond
    /// since the Unix epoch.</summary>
    internal static long FirstNanosecondOf(DateTimeOffset timestamp) => (timestamp.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;

    internal static long LastNanosecondOf(DateTimeOffset timestamp) => FirstNanosecondOf(timestamp) + 99;

    /// <summary>Unmaps the segment and the VMClock device.</summary>
    public void Dispose()
    {
        _segment.Dispose();
        Interlocked.Exchange(ref _vmClock, null)?.Dispose();
    }

    private ClockBoundTime UsableNow()
    {
        var now = _testClocks is { } clocks ? NowAt(clocks()) : Now();
        return now.IsUsable ? now : throw new ClockNotUsableException(now.Status);
    }

    private bool MarkerMatches(ulong segmentMarker)
    {
        VmClockReader vmClock = VmClock();
        try
        {
            return vmClock.ReadDisruptionMarker() == segmentMarker;
        }
        catch (VmClockException e) when (e.Kind == VmClockErrorKind.Torn)
        {
            // The hypervisor is updating the page right now: the marker cannot be vouched for.
            return false;
        }
    }

    private VmClockReader VmClock()
    {
        if (Volatile.Read(ref _vmClock) is { } reader) return reader;
        VmClockReader opened;
        try
        {
            opened = VmClockReader.Open(_vmClockPath);
        }
        catch (VmClockException e)
        {
            throw new ClockBoundException(ClockBoundErrorKind.Syscall, _vmClockPath, e.Message, Errno(e));
        }
        var winner = Interlocked.CompareExchange(ref _vmClock, opened, null);
        if (winner is null) return opened;
        opened.Dispose();
        return winner;
    }

    /// <summary>The errno behind a VMClock failure, as the reference clients report it with the Syscall kind.</summary>
    private static int Errno(VmClockException e) => e switch
    {
        { InnerException: SyscallException syscall } => syscall.Errno,
        { Kind: VmClockErrorKind.Missing } => ENOENT,
        { Kind: VmClockErrorKind.PermissionDenied } => EACCES,
        _ => EINVAL, // a file that is not a valid VMClock device
    };

    private const int ENOENT = 2, EACCES = 13, EINVAL = 22;
}
