using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;

namespace ClockBound.Actors;

/// <summary>
/// Turns the daemon's signals into messages: SIGUSR1 → <see cref="ForcedDisruption"/>(true), SIGUSR2 →
/// <see cref="ForcedDisruption"/>(false) to the clock-status actor; SIGHUP → the host's log-reopening callback.
/// SIGTERM and SIGINT belong to the host's console lifetime and are not handled here.
/// </summary>
/// <remarks>
/// The handlers run on the runtime's signal thread: they only cancel the default action (which for these three signals is
/// to terminate the process) and tell the actor. Registrations live from <c>PreStart</c> to <c>PostStop</c>.
/// </remarks>
public sealed class SignalListenerActor : ReceiveActor
{
    // Linux signal numbers (signal(7), x86 and arm): .NET has no names for SIGUSR1/2, but accepts raw numbers on Unix.
    private const PosixSignal SigUsr1 = (PosixSignal)10;
    private const PosixSignal SigUsr2 = (PosixSignal)12;

    private readonly IActorRef _clockStatus;
    private readonly Action? _onReopenLogs;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public SignalListenerActor(IActorRef clockStatus, Action? onReopenLogs = null)
    {
        _clockStatus = clockStatus;
        _onReopenLogs = onReopenLogs;
        Receive<SignalReceived>(OnSignal);
        Receive<InjectFault>(InjectFault.Throw);
    }

    /// <summary>Props; <paramref name="onReopenLogs"/> runs on SIGHUP (null: SIGHUP is logged and otherwise ignored).</summary>
    public static Props Props(IActorRef clockStatus, Action? onReopenLogs = null) =>
        Akka.Actor.Props.Create(() => new SignalListenerActor(clockStatus, onReopenLogs));

    protected override void PreStart()
    {
        var self = Self;
        foreach (var signal in (ReadOnlySpan<PosixSignal>)[SigUsr1, SigUsr2, PosixSignal.SIGHUP])
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                self.Tell(new SignalReceived(context.Signal));
            }));
        }
    }

    protected override void PostStop()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _registrations.Clear();
    }

    private void OnSignal(SignalReceived m)
    {
        switch (m.Signal)
        {
            case SigUsr1:
                // The clock-status actor says what comes of it (forced on, already on, or ignored with -d).
                _log.Debug("SIGUSR1 received");
                _clockStatus.Tell(new ForcedDisruption(true));
                break;
            case SigUsr2:
                _log.Debug("SIGUSR2 received");
                _clockStatus.Tell(new ForcedDisruption(false));
                break;
            case PosixSignal.SIGHUP when _onReopenLogs is not null:
                _log.Info("SIGHUP: reopening the logs");
                _onReopenLogs();
                break;
            case PosixSignal.SIGHUP:
                _log.Info("SIGHUP: no log file to reopen");
                break;
        }
    }

    private sealed record SignalReceived(PosixSignal Signal);
}
