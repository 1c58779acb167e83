using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Akka.Actor;
using Akka.Event;
using ClockBound.Io;
using ClockBound.Io.VmClock;

namespace ClockBound.Actors;

/// <summary>
/// Watches the VMClock device's disruption marker and reports it to the clock-status actor: <see cref="VmClockObserved"/> on
/// every change, once more when it has settled (<see cref="StableReads"/>), and at least every
/// <see cref="ClockBoundSettings.VmClockHeartbeatInterval"/>; <see cref="VmClockUnavailable"/>
/// when the device cannot be read, or was removed or replaced while open (checked before each heartbeat: the mapping
/// outlives a removal), after which the actor fails so that its back-off supervisor opens the device again.
/// </summary>
/// <remarks>
/// The <see cref="ClockBoundSettings.VmClockPollInterval"/> (35 ms) poll does not use Akka's scheduler: a dedicated
/// background thread reads the mapping, sleeps one poll interval, and messages the actor only when there is something to
/// report (change, heartbeat, error). A bare futex sleep is the cheapest wake-up there is; the same poll as an actor
/// timer on the event loop cost a fifth more per wake-up (docs/performance-notes.md, "Idle CPU, round 3"). The thread never
/// touches actor state; it owns the <see cref="VmClockReader"/> from <c>PreStart</c> on and disposes it when it ends, so
/// the mapping is never unmapped under a read in progress. <c>PostStop</c> stops it.
/// </remarks>
public sealed class VmClockWatcherActor : ReceiveActor
{
    /// <summary>After a change (and at start) the marker is reported once more when this many consecutive reads have
    /// found it unchanged: 3 polls (105 ms by default, far less than chronyd needs to synchronise again after its reset) show the device has settled, and the clock-status actor can call the
    /// marker stable as soon as chronyd's reset completes instead of waiting up to a heartbeat (1 s) for the next report.</summary>
    private const int StableReads = 3;

    private readonly ClockBoundSettings _settings;
    private readonly IActorRef _clockStatus;
    private readonly Func<VmClockReader> _open;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    /// <summary>Set in PostStop: ends the poll thread at once (it sleeps on it between reads).</summary>
    private readonly WakeEvent _stopping = new();
    private ulong? _lastMarker;

    public VmClockWatcherActor(ClockBoundSettings settings, IActorRef clockStatus, Func<VmClockReader>? open = null)
    {
        _settings = settings;
        _clockStatus = clockStatus;
        _open = open ?? (() => VmClockReader.Open(settings.VmClockPath));

        Receive<MarkerRead>(OnMarkerRead);
        Receive<ReadFailed>(OnReadFailed);
        Receive<InjectFault>(InjectFault.Throw);
    }

    /// <summary>Props; <paramref name="open"/> replaces <see cref="VmClockReader.Open"/> of the configured path.</summary>
    public static Props Props(ClockBoundSettings settings, IActorRef clockStatus, Func<VmClockReader>? open = null) =>
        Akka.Actor.Props.Create(() => new VmClockWatcherActor(settings, clockStatus, open));

    protected override void PreStart()
    {
        // A failure to open throws here: the supervisor logs it and tries again after a back-off.
        var reader = _open();
        var self = Self;
        var stopping = _stopping;
        var (poll, heartbeat) = (_settings.VmClockPollInterval, _settings.VmClockHeartbeatInterval);
        new Thread(() => Watch(reader, self, poll, heartbeat, stopping)) { IsBackground = true, Name = "vmclock-watcher" }.Start();
    }

    protected override void PostStop() => _stopping.Set();

    private void OnMarkerRead(MarkerRead m)
    {
        if (_lastMarker is { } last && last != m.Marker)
            _log.Warning("VMClock {0}: disruption marker changed from {1} to {2}", _settings.VmClockPath, last, m.Marker);
        _lastMarker = m.Marker;
        _clockStatus.Tell(new VmClockObserved(m.Marker));
    }

    private void OnReadFailed(ReadFailed m)
    {
        // The reader's messages name the device; anything else gets the path added.
        var reason = m.Cause is VmClockException ? m.Cause.Message : $"VMClock {_settings.VmClockPath}: {m.Cause.Message}";
        _clockStatus.Tell(new VmClockUnavailable(reason));
        // Fail with the original exception (its message names the path): the supervisor logs it and restarts the watcher.
        ExceptionDispatchInfo.Throw(m.Cause);
    }

    /// <summary>
    /// The poll loop. Reads once at start (so the marker is known at once), then every poll interval; tells
    /// <paramref name="self"/> the marker when it differs from the last one sent or the heartbeat is due, and the
    /// exception when a read fails (then ends). Ends when <paramref name="stopping"/> is set. Disposes
    /// <paramref name="reader"/> when it ends.
    /// </summary>
    private static void Watch(VmClockReader reader, IActorRef self, TimeSpan pollInterval, TimeSpan heartbeat, WakeEvent stopping)
    {
        using var _ = reader;
        try
        {
            ulong? lastSent = null;
            long lastSentAt = 0;
            int unchangedReads = 0;
            do
            {
                // Before a heartbeat, check that the device is still there: the mapping outlives a removal, so reads
                // alone would not tell.
                bool heartbeatDue = Stopwatch.GetElapsedTime(lastSentAt) >= heartbeat;
                if (heartbeatDue) reader.EnsureStillAtPath();
                // The marker alone (as a client reads it): the constant header was validated when the device was opened.
                var marker = reader.ReadDisruptionMarker();
                unchangedReads = marker == lastSent ? Math.Min(unchangedReads + 1, StableReads + 1) : 0;
                if (marker != lastSent || heartbeatDue || unchangedReads == StableReads)
                {
                    self.Tell(new MarkerRead(marker));
                    lastSent = marker;
                    lastSentAt = Stopwatch.GetTimestamp();
                }
            }
            // The sleep between reads is a wait for the stop: a bare futex wait with a timeout, the cheapest sleep there
            // is (Thread.Sleep costs about a third more per wake-up, docs/performance-notes.md).
            while (!stopping.Wait(pollInterval));
        }
        catch (Exception ex)
        {
            self.Tell(new ReadFailed(ex));
        }
    }

    private sealed record MarkerRead(ulong Marker);

    private sealed record ReadFailed(Exception Cause);
}
