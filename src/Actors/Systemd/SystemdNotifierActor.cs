using Akka.Actor;
using Akka.Event;
using ClockBound.Io;
using ClockBound.Io.Systemd;

namespace ClockBound.Actors.Systemd;

/// <summary>
/// Tells systemd READY=1 after the first segment write and, when the unit sets WatchdogSec, pings WATCHDOG=1 only
/// while segment writes keep coming: a stuck publishing pipeline makes systemd restart the daemon.
/// </summary>
public sealed class SystemdNotifierActor : ReceiveActor, IWithTimers
{
    private const string WatchdogTimer = "watchdog";

    private readonly SystemdNotifier _notifier;
    private readonly Func<Timespec> _monotonic;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private bool _ready;
    private Timespec _lastWrite;

    public SystemdNotifierActor(SystemdNotifier notifier, Func<Timespec> monotonic)
    {
        _notifier = notifier;
        _monotonic = monotonic;
        Receive<SegmentWritten>(OnSegmentWritten);
        Receive<WatchdogTick>(_ => OnWatchdogTick());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(SystemdNotifier notifier, Func<Timespec>? monotonic = null) =>
        Akka.Actor.Props.Create(() => new SystemdNotifierActor(notifier, monotonic ?? Clocks.MonotonicCoarse));

    protected override void PreStart()
    {
        Context.System.EventStream.Subscribe<SegmentWritten>(Self);
        if (_notifier.WatchdogInterval is { } interval)
        {
            // Ping at half the interval, as sd_watchdog_enabled(3) recommends.
            Timers.StartPeriodicTimer(WatchdogTimer, WatchdogTick.Instance, interval / 2);
        }
    }

    protected override void PostStop()
    {
        Context.System.EventStream.Unsubscribe(Self);
        _notifier.Notify("STOPPING=1");
    }

    private void OnSegmentWritten(SegmentWritten written)
    {
        _lastWrite = written.WrittenAt;
        if (_ready) return;
        _ready = true;
        if (_notifier.Notify($"READY=1\nSTATUS=publishing, status {written.Status}"))
            _log.Info("Told systemd READY=1 after the first segment write");
        else
            _log.Warning("Could not send READY=1 to systemd at {0}", _notifier.SocketPath);
    }

    private void OnWatchdogTick()
    {
        if (!_ready || _notifier.WatchdogInterval is not { } interval) return;
        // The pipeline is alive when the segment was written within the watchdog interval.
        long sinceWrite = _monotonic().NanosecondsSince(_lastWrite);
        if (sinceWrite <= (long)(interval.TotalMilliseconds * 1_000_000))
            _notifier.Notify("WATCHDOG=1");
        else
            _log.Warning("No segment write for {0} ms: withholding the systemd watchdog ping", sinceWrite / 1_000_000);
    }

    private sealed class WatchdogTick
    {
        public static readonly WatchdogTick Instance = new();
        private WatchdogTick() { }
    }
}
