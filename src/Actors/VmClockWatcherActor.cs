using System.Diagnostics;
using System.Runtime.ExceptionServices;
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
/// The <see cref="ClockBoundSettings.VmClockPollInterval"/> (10 ms) poll does not use Akka's scheduler, whose tick the host
/// makes coarse to save idle CPU: a dedicated background thread reads the mapping, sleeps one poll interval, and messages
/// the actor only when there is something to report (change, heartbeat, error). A thread of its own rather than a timer
/// on the thread pool: 100 wake-ups a second of one sleeping thread cost far less CPU than 100 hand-offs from the timer
/// thread to a pool worker (which spins before it blocks again). The thread never touches actor state; it owns the
/// <see cref="VmClockReader"/> from <c>PreStart</c> on and disposes it when it ends, so the mapping is never unmapped
/// under a read in progress. <c>PostStop</c> cancels it.
/// </remarks>
public sealed class VmClockWatcherActor : ReceiveActor
{
    private readonly ClockBoundSettings _settings;
    private readonly IActorRef _clockStatus;
    private readonly Func<VmClockReader> _open;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
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
        var token = _stopping.Token;
        var (poll, heartbeat) = (_settings.VmClockPollInterval, _settings.VmClockHeartbeatInterval);
        new Thread(() => Watch(reader, self, poll, heartbeat, token)) { IsBackground = true, Name = "vmclock-watcher" }.Start();
    }

    protected override void PostStop() => _stopping.Cancel();

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
    /// exception when a read fails (then ends). Ends when <paramref name="token"/> is cancelled. Disposes
    /// <paramref name="reader"/> when it ends.
    /// </summary>
    private static void Watch(VmClockReader reader, IActorRef self, TimeSpan pollInterval, TimeSpan heartbeat, CancellationToken token)
    {
        using var _ = reader;
        try
        {
            ulong? lastSent = null;
            long lastSentAt = 0;
            do
            {
                var marker = reader.Read().DisruptionMarker;
                if (marker != lastSent || Stopwatch.GetElapsedTime(lastSentAt) >= heartbeat)
                {
                    self.Tell(new MarkerRead(marker));
                    lastSent = marker;
                    lastSentAt = Stopwatch.GetTimestamp();
                }
            }
            while (SleepUnlessCancelled(pollInterval, token));
        }
        catch (Exception ex)
        {
            self.Tell(new ReadFailed(ex));
        }
    }

    /// <summary>Sleeps one poll interval; false once <paramref name="token"/> is cancelled (PostStop: the actor is gone).
    /// A plain sleep (nanosleep) costs less per wake-up than waiting on the token's wait handle; a cancellation is then
    /// noticed up to one interval late, which only delays the end of this thread.</summary>
    private static bool SleepUnlessCancelled(TimeSpan interval, CancellationToken token)
    {
        Thread.Sleep(interval);
        return !token.IsCancellationRequested;
    }

    private sealed record MarkerRead(ulong Marker);

    private sealed record ReadFailed(Exception Cause);
}
