using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ClockBound.Io.VmClock;

namespace ClockBound.Actors;

/// <summary>
/// Watches the VMClock device's disruption marker and reports it to the clock-status actor: <see cref="VmClockObserved"/> on
/// every change and at least every <see cref="ClockBoundSettings.VmClockHeartbeatInterval"/>; <see cref="VmClockUnavailable"/>
/// when the device cannot be read, after which the actor fails so that its back-off supervisor opens the device again.
/// </summary>
/// <remarks>
/// The marker is read on a periodic timer (<see cref="ClockBoundSettings.VmClockPollInterval"/>, 10 ms): a read of the
/// mapping, as clients do, that never blocks. With the daemon's <see cref="Hosting.LoopScheduler"/> the timer fires on the
/// event loop's tick grid, on the same instants as the chrony poll and the read of chronyd's reply, so these share one
/// wake-up of one thread (BENCHMARKS.md, "Idle CPU, round 3"). The actor owns the <see cref="VmClockReader"/> from
/// <c>PreStart</c> to <c>PostStop</c>, so the mapping is never unmapped under a read.
/// </remarks>
public sealed class VmClockWatcherActor : ReceiveActor, IWithTimers
{
    private const string PollTimerKey = "poll";

    private readonly ClockBoundSettings _settings;
    private readonly IActorRef _clockStatus;
    private readonly Func<VmClockReader> _open;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private VmClockReader? _reader;
    private ulong? _lastMarker;
    private long _lastReportedAt;

    public VmClockWatcherActor(ClockBoundSettings settings, IActorRef clockStatus, Func<VmClockReader>? open = null)
    {
        _settings = settings;
        _clockStatus = clockStatus;
        _open = open ?? (() => VmClockReader.Open(settings.VmClockPath));

        Receive<Poll>(_ => ReadMarker());
        Receive<InjectFault>(InjectFault.Throw);
    }

    /// <summary>Props; <paramref name="open"/> replaces <see cref="VmClockReader.Open"/> of the configured path.</summary>
    public static Props Props(ClockBoundSettings settings, IActorRef clockStatus, Func<VmClockReader>? open = null) =>
        Akka.Actor.Props.Create(() => new VmClockWatcherActor(settings, clockStatus, open));

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Opens the device and reads the marker at once (so that it is known at once), then every poll interval. A
    /// failure to open throws here: the supervisor logs it and tries again after a back-off.</summary>
    protected override void PreStart()
    {
        _reader = _open();
        ReadMarker();
        Timers.StartPeriodicTimer(PollTimerKey, Poll.Instance, _settings.VmClockPollInterval);
    }

    protected override void PostStop() => _reader?.Dispose();

    /// <summary>Reads the marker alone (the constant header was validated when the device was opened) and reports it when
    /// it changed or the heartbeat is due; before a heartbeat it also checks that the device is still there (the mapping
    /// outlives a removal, so reads alone would not tell). A failure is reported, then fails the actor with the reader's
    /// exception (its message names the device): the supervisor logs it and restarts the watcher, which opens the device
    /// again.</summary>
    private void ReadMarker()
    {
        ulong marker;
        bool heartbeatDue = Stopwatch.GetElapsedTime(_lastReportedAt) >= _settings.VmClockHeartbeatInterval;
        try
        {
            if (heartbeatDue) _reader!.EnsureStillAtPath();
            marker = _reader!.ReadDisruptionMarker();
        }
        catch (Exception ex)
        {
            _clockStatus.Tell(new VmClockUnavailable(ex is VmClockException ? ex.Message : $"VMClock {_settings.VmClockPath}: {ex.Message}"));
            throw;
        }

        if (marker == _lastMarker && !heartbeatDue)
            return;
        if (_lastMarker is { } last && last != marker)
            _log.Warning("VMClock {0}: disruption marker changed from {1} to {2}", _settings.VmClockPath, last, marker);
        _lastMarker = marker;
        _lastReportedAt = Stopwatch.GetTimestamp();
        _clockStatus.Tell(new VmClockObserved(marker));
    }

    private sealed class Poll
    {
        public static readonly Poll Instance = new();
        private Poll() { }
    }
}
