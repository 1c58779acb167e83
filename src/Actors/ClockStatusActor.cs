using Akka.Actor;
using Akka.Event;
using ClockBound.Actors.StateMachine;
using ClockBound.Io;
using ClockBound.Io.Bound;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;

namespace ClockBound.Actors;

/// <summary>
/// The heart of the daemon: turns chrony polls, VMClock observations, PHC reads and the SIGUSR1/2 switch into the
/// state machine's inputs, runs <see cref="ClockStatusTransitions"/>, and tells the segment writer what to publish
/// (daemon-behaviour.md, "The clock error bound", "Clock status state machine", "Disruption handling").
/// </summary>
/// <remarks>
/// Publishing: after every chrony input (real or synthesized) and every state change, and at once (before asking
/// chronyd to reset) on entering a disruption. Nothing is published until the first chrony input and, with disruption
/// support, the first VMClock input have arrived, so that a restarted daemon does not flash Unknown over the good
/// segment of its predecessor; at the latest <see cref="ClockBoundSettings.ChronyTimeout"/> +
/// <see cref="ClockBoundSettings.ChronyPollInterval"/> after start the current state is published anyway.
/// Before any Synchronized sample the record carries as_of = 0, void_after = 0 + VoidAfter and bound 0 (as the
/// reference, which starts from an all-zero record and always sets void_after = as_of + 1000 s); its status is then
/// never Synchronized or FreeRunning, so clients do not use the bound.
/// <para>At start the first VMClock marker goes through <see cref="StartRule"/> against what the previous run left
/// (<see cref="PreviousRun"/>): adopted only when nothing can have happened while no daemon watched, otherwise handled as
/// a disruption.</para>
/// <para>Restarted by its supervisor after an exception, the actor must not be less safe than the one that died. The
/// dying instance hands over what only it knows and what cannot be inconsistent (the SIGUSR1 switch, the marker acted on,
/// the reset epoch, the last good sample already published); the new one stashes every message until that hand-over
/// arrives, then handles the restart as a disruption (Disrupted at once, chronyd reset), because anything else the dead
/// instance held may have been half-updated by the exception. A restart is a bug, not an event of the clock: paying a
/// chronyd reset for it is cheaper than trusting state of unknown quality.</para>
/// </remarks>
public sealed class ClockStatusActor : ReceiveActor, IWithTimers, IWithStash
{
    /// <summary>Timer key of the watchdog for a silent chrony poller ("missing data is an input, not silence"): kept ahead
    /// of every chrony input (see <see cref="NoteChronyInputForWatchdog"/>), so it fires only when none came for
    /// <see cref="ChronySilenceLimit"/> (a periodic check would wake the daemon 10 times a second for nothing; idle CPU,
    /// docs/performance-notes.md).</summary>
    public const string ChronySilenceTimerKey = "chrony-silence-check";

    /// <summary>Timer key of the deadline after which the state is published even without inputs.</summary>
    public const string FirstPublishTimerKey = "first-publish-deadline";

    /// <summary>Timer key of the repeated <see cref="ResetChrony"/> while a reset is outstanding: a request that reached the
    /// poller while supervision was restarting it is lost, and the disruption must not last forever because of it.</summary>
    public const string ResetResendTimerKey = "reset-resend";

    private readonly ClockBoundSettings _settings;
    private readonly IActorRef _segmentWriter;
    /// <summary>What the previous run left; replaced by "restarted" in an instance that follows a failed one.</summary>
    private PreviousRun _previous;
    private readonly IActorRef _chronyPoller;
    private readonly Func<Timespec> _monotonicClock;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly bool _disruptionSupport;

    // --- the state machine and its inputs ---
    private ClockStatus _status = ClockStatus.Unknown;
    private ChronyClockStatus _chrony = ChronyClockStatus.Unknown;
    private DisruptionState _disruption;
    /// <summary>The last VMClock marker acted on; null until the first observation, which goes through <see cref="StartRule"/>.</summary>
    private ulong? _marker;
    /// <summary>SIGUSR1 received and not yet cancelled by SIGUSR2.</summary>
    private bool _forced;
    /// <summary>A reading of the marker acted on has arrived since it was acted on (or since the device was last
    /// unreadable): the device is readable and its marker has not moved. When chronyd's reset completes with the marker
    /// confirmed, the disruption state is Reliable at once; otherwise it stays Unknown until the next reading.</summary>
    private bool _markerConfirmed;
    /// <summary>ResetChrony sent, its ChronyResetCompleted not yet received: the disruption state stays Disrupted.</summary>
    private bool _resetOutstanding;
    /// <summary>The number of the latest disruption, sent with its <see cref="ResetChrony"/>; only the completion that
    /// carries it ends the disruption.</summary>
    private long _resetEpoch;
    /// <summary>When chronyd's last reset completed (zero: never). A tracking reply requested before it describes
    /// chronyd's pre-disruption state and must not end the disruption.</summary>
    private Timespec _resetCompletedAt;

    // --- what gets published ---
    /// <summary>as_of and bound of the last Synchronized sample; null before the first one.</summary>
    private (Timespec AsOf, long BoundNanoseconds)? _lastGood;
    /// <summary>The PHC's latest error bound and when its read started; null before the first read and after a failed read.</summary>
    private PhcBoundRead? _phc;
    private string _phcProblem = "no PHC error bound read yet";

    // --- liveness of the inputs ---
    private bool _chronySilent;
    /// <summary>When the silence watchdog's timer was last started (<see cref="_monotonicClock"/>).</summary>
    private Timespec _watchdogStartedAt;
    /// <summary>A chrony input arrived after the watchdog's timer was started, at <see cref="_lastChronyInputAt"/>.</summary>
    private bool _inputSinceWatchdogStarted;
    private Timespec _lastChronyInputAt;
    private bool _sawChronyInput;
    private bool _sawVmClockInput;
    private bool _ignoredVmClockLogged;
    private bool _publishing;

    /// <summary>Props of the clock-status actor. <paramref name="previous"/> is what the previous run left in the segment
    /// (the start rule's input). <paramref name="monotonicClock"/> (default CLOCK_MONOTONIC_COARSE) times the silence of
    /// the chrony poller, the end of chronyd's reset and the age of the PHC bound; tests pass a controllable clock.</summary>
    public static Props Props(ClockBoundSettings settings, PreviousRun previous, IActorRef segmentWriter, IActorRef chronyPoller,
        Func<Timespec>? monotonicClock = null)
    {
        var clock = monotonicClock ?? Clocks.MonotonicCoarse;
        return Akka.Actor.Props.Create(() => new ClockStatusActor(settings, previous, segmentWriter, chronyPoller, clock));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <summary>Use <see cref="Props"/>; public only because Akka creates actors by reflection.</summary>
    public ClockStatusActor(ClockBoundSettings settings, PreviousRun previous, IActorRef segmentWriter, IActorRef chronyPoller,
        Func<Timespec> monotonicClock)
    {
        _settings = settings;
        _previous = previous;
        _segmentWriter = segmentWriter;
        _chronyPoller = chronyPoller;
        _monotonicClock = monotonicClock;
        _disruptionSupport = settings.ClockDisruptionSupportEnabled;
        // Without support the disruption input is Reliable for good; with it nothing is known before the first reading.
        _disruption = _disruptionSupport ? DisruptionState.Unknown : DisruptionState.Reliable;
        Active();
    }

    private void Active()
    {
        Receive<ChronyTracked>(OnChronyTracked);
        Receive<ChronyPollFailed>(OnChronyPollFailed);
        Receive<VmClockObserved>(OnVmClockObserved);
        Receive<VmClockUnavailable>(OnVmClockUnavailable);
        Receive<ChronyResetCompleted>(OnChronyResetCompleted);
        Receive<ForcedDisruption>(OnForcedDisruption);
        Receive<PhcBoundRead>(OnPhcBoundRead);
        Receive<PhcReadFailed>(OnPhcReadFailed);
        Receive<ChronySilent>(_ => OnChronySilent());
        Receive<FirstPublishDeadline>(_ => OnFirstPublishDeadline());
        Receive<ResendReset>(_ => OnResendReset());
        Receive<InjectFault>(InjectFault.Throw);
    }

    protected override void PreStart()
    {
        RestartSilenceWatchdog();
        Timers.StartSingleTimer(FirstPublishTimerKey, FirstPublishDeadline.Instance,
            _settings.ChronyTimeout + _settings.ChronyPollInterval);
    }

    // ---------------------------------------------------------------- restart

    /// <summary>The dying instance hands over what the next one needs; it is queued behind the messages already waiting.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        Self.Tell(new HandOver(_forced, _marker, _resetEpoch, _lastGood, $"{reason.GetType().Name}: {reason.Message}"));
        base.PreRestart(reason, message);
    }

    /// <summary>Until the hand-over arrives, every other message waits: none may meet the defaults of a fresh instance.</summary>
    protected override void PostRestart(Exception reason) =>
        Become(() =>
        {
            Receive<HandOver>(OnHandOver);
            ReceiveAny(_ => Stash.Stash());
        });

    private void OnHandOver(HandOver h)
    {
        _forced = h.Forced;
        _marker = h.Marker;
        _resetEpoch = h.ResetEpoch;
        _lastGood = h.LastGood;
        _markerConfirmed = false;
        _previous = PreviousRun.Unusable("the clock-status actor restarted");
        _log.Warning("clock-status actor restarted after {0}; forced disruption {1}, marker {2}, last reset {3}",
            h.Cause, _forced ? "on" : "off", _marker?.ToString() ?? "none", _resetEpoch);
        Become(Active);
        Stash.UnstashAll();
        PreStart();
        if (_disruptionSupport)
            EnterDisruption($"clock-status actor restarted after {h.Cause}", _marker);
        else
            _publishing = true; // without disruption support the next chrony input decides, from Unknown
    }

    /// <summary>The longest time without any chrony input (success or failure) before one failure is synthesized:
    /// one request timeout plus two poll periods of slack.</summary>
    private TimeSpan ChronySilenceLimit => _settings.ChronyTimeout + 2 * _settings.ChronyPollInterval;

    private DisruptionState EffectiveDisruption => _forced ? DisruptionState.Disrupted : _disruption;

    // ---------------------------------------------------------------- chrony

    private void OnChronyTracked(ChronyTracked tracked)
    {
        NoteChronyInput();
        if (_resetCompletedAt != default && tracked.AsOf <= _resetCompletedAt)
        {
            // Polls run concurrently with the reset: this reply was requested before chronyd dropped its old samples.
            _log.Debug("tracking requested at {0}, before chronyd's reset completed at {1}: ignored", tracked.AsOf, _resetCompletedAt);
            return;
        }
        if (_lastGood is { } good && tracked.AsOf < good.AsOf)
        {
            // Requested before the sample already published: as_of must never move backwards (the poller keeps one
            // request in flight, so this only guards against a change of that contract).
            _log.Debug("tracking requested at {0}, before the last good sample's {1}: ignored", tracked.AsOf, good.AsOf);
            return;
        }
        var tracking = tracked.Tracking;

        PhcBound? phc = null;
        if (_settings.PhcReferenceId is { } phcRefId)
        {
            var problem = PhcProblemAt(tracked.AsOf);
            if (problem is null)
                phc = new PhcBound(phcRefId, _phc!.ErrorBoundNanoseconds);
            else if (tracking.ReferenceId == phcRefId)
            {
                ChronyFailed(tracked.AsOf,
                    $"chronyd is synchronised to the PHC (reference id 0x{phcRefId:X8}) but its error bound is unavailable: {problem}");
                return;
            }
        }

        ChronySample sample;
        try
        {
            sample = ErrorBoundCalculator.Compute(tracking, tracked.AsOf, tracked.ReceivedRealtime, phc, _settings.StaleFactor);
        }
        catch (ChronyException e)
        {
            ChronyFailed(tracked.AsOf, e.Message);
            return;
        }

        // Only Synchronized samples replace the published as_of and bound; otherwise the last good ones keep growing
        // in the clients by max drift × elapsed.
        if (sample.Status == ChronyClockStatus.Synchronized)
            _lastGood = (sample.AsOf, sample.BoundNanoseconds);
        _chrony = sample.Status;
        Step(TrackingTrigger(sample.Status), publish: true);
    }

    /// <summary>The trigger a tracking reply gives <see cref="Step"/>: one string per status, not one per poll.</summary>
    private static string TrackingTrigger(ChronyClockStatus status) => status switch
    {
        ChronyClockStatus.Synchronized => "chrony tracking (Synchronized)",
        ChronyClockStatus.FreeRunning => "chrony tracking (FreeRunning)",
        _ => "chrony tracking (Unknown)",
    };

    private void OnChronyPollFailed(ChronyPollFailed failed)
    {
        NoteChronyInput();
        ChronyFailed(failed.At, $"{failed.Kind}: {failed.Reason}");
    }

    /// <summary>A failed poll: FreeRunning within the restart grace of the last good as_of (chronyd restarts are
    /// normal), Unknown after it or when there never was a good sample.</summary>
    private void ChronyFailed(Timespec at, string reason)
    {
        var withinGrace = _lastGood is { } good && at.NanosecondsSince(good.AsOf) <= ToNanoseconds(_settings.RestartGrace);
        _chrony = withinGrace ? ChronyClockStatus.FreeRunning : ChronyClockStatus.Unknown;
        _log.Debug("chrony poll failed at {0} ({1}); chrony status {2}", at, reason, _chrony);
        Step($"chrony poll failed: {reason}", publish: true);
    }

    private void NoteChronyInput()
    {
        NoteChronyInputForWatchdog();
        _sawChronyInput = true;
        if (_chronySilent)
        {
            _chronySilent = false;
            _log.Info("chrony input resumed");
        }
    }

    /// <summary>A chrony input arrived: the watchdog must not fire before <see cref="ChronySilenceLimit"/> after it.
    /// Restarting its timer on every input would cost a new timer per poll (Akka's timer, its message, a cancelable with
    /// its CancellationTokenSource, the loop's entry; docs/performance-notes.md, "Round 5"): the timer is restarted only
    /// when more than half the limit has passed since it was started, and otherwise the input is only noted. A watchdog
    /// that fires after an input it did not see is started again for what is left of the limit after that input, so
    /// the silence is still reported exactly one limit after the last input, and a steady poller never lets it fire.</summary>
    private void NoteChronyInputForWatchdog()
    {
        var now = _monotonicClock();
        if (now.NanosecondsSince(_watchdogStartedAt) > ToNanoseconds(ChronySilenceLimit) / 2)
        {
            RestartSilenceWatchdog(now);
            return;
        }
        _inputSinceWatchdogStarted = true;
        _lastChronyInputAt = now;
    }

    private void RestartSilenceWatchdog() => RestartSilenceWatchdog(_monotonicClock());

    private void RestartSilenceWatchdog(Timespec now)
    {
        _watchdogStartedAt = now;
        _inputSinceWatchdogStarted = false;
        Timers.StartSingleTimer(ChronySilenceTimerKey, ChronySilent.Instance, ChronySilenceLimit);
    }

    /// <summary>The watchdog fired. After an input it did not see (<see cref="NoteChronyInputForWatchdog"/>), it is
    /// started again for the rest of the limit after that input. Otherwise no chrony input came for
    /// <see cref="ChronySilenceLimit"/>: that counts as one failed poll, and so does every further limit of silence.</summary>
    private void OnChronySilent()
    {
        if (_inputSinceWatchdogStarted)
        {
            var now = _monotonicClock();
            long left = ToNanoseconds(ChronySilenceLimit) - now.NanosecondsSince(_lastChronyInputAt);
            _watchdogStartedAt = now;
            _inputSinceWatchdogStarted = false;
            if (left > 0)
            {
                // At least a millisecond: a coarse clock must not turn the rest into a burst of wake-ups.
                Timers.StartSingleTimer(ChronySilenceTimerKey, ChronySilent.Instance,
                    TimeSpan.FromTicks(Math.Max(left / 100, TimeSpan.TicksPerMillisecond)));
                return;
            }
        }
        var reason = $"no chrony input for {ChronySilenceLimit.TotalMilliseconds} ms: the poller is stuck or restarting";
        if (!_chronySilent)
            _log.Warning("{0}; counting it as a failed poll", reason);
        _chronySilent = true;
        _sawChronyInput = true;
        RestartSilenceWatchdog();
        ChronyFailed(_monotonicClock(), reason);
    }

    // ---------------------------------------------------------------- VMClock and signals

    private void OnVmClockObserved(VmClockObserved observed)
    {
        if (!_disruptionSupport)
        {
            LogIgnoredVmClockOnce();
            return;
        }
        _sawVmClockInput = true;
        var marker = observed.DisruptionMarker;

        if (_marker is not { } actedOn)
        {
            var decision = StartRule.Decide(_previous, marker);
            if (!decision.Adopt)
            {
                _markerConfirmed = false;
                EnterDisruption($"VMClock disruption marker {marker} at start: {decision.Reason}", marker);
                return;
            }
            _marker = marker;
            _log.Info("VMClock disruption marker {0} adopted: {1}", marker, decision.Reason);
        }
        else if (marker != actedOn)
        {
            _markerConfirmed = false;
            EnterDisruption($"VMClock disruption marker changed from {actedOn} to {marker}", marker);
            return;
        }

        _markerConfirmed = true;
        if (!_resetOutstanding)
            _disruption = DisruptionState.Reliable;
        Step("VMClock marker stable", publish: false);
    }

    private void OnVmClockUnavailable(VmClockUnavailable unavailable)
    {
        if (!_disruptionSupport)
        {
            LogIgnoredVmClockOnce();
            return;
        }
        _sawVmClockInput = true;
        _markerConfirmed = false;
        // While chronyd is being reset the clock is known to be disrupted; that stays the more useful answer.
        if (_resetOutstanding)
            return;
        if (_disruption != DisruptionState.Unknown)
            _log.Warning("VMClock unavailable ({0}); disruption state Unknown", unavailable.Reason);
        _disruption = DisruptionState.Unknown;
        Step($"VMClock unavailable: {unavailable.Reason}", publish: false);
    }

    private void OnChronyResetCompleted(ChronyResetCompleted completed)
    {
        if (!_resetOutstanding || completed.Epoch != _resetEpoch)
        {
            // The completion of an earlier reset: chronyd may still hold samples from before the latest disruption.
            _log.Debug("chronyd reset {0} completed, but the reset outstanding is {1}; ignored",
                completed.Epoch, _resetOutstanding ? _resetEpoch.ToString() : "none");
            return;
        }
        _resetOutstanding = false;
        Timers.Cancel(ResetResendTimerKey);
        _resetCompletedAt = _monotonicClock();
        // Recovered. The marker is Reliable if a reading has confirmed it since the disruption (the watcher reads it again
        // a few polls after every change, well before a reset usually completes), else Unknown until the next reading;
        // chrony is Unknown until a tracking reply requested after the reset, since chronyd has dropped its sources.
        _disruption = _markerConfirmed ? DisruptionState.Reliable : DisruptionState.Unknown;
        _chrony = ChronyClockStatus.Unknown;
        _log.Info("chronyd reset and burst completed");
        Step("chronyd reset completed", publish: false);
    }

    private void OnForcedDisruption(ForcedDisruption forced)
    {
        var signal = forced.On ? "SIGUSR1" : "SIGUSR2";
        if (!_disruptionSupport)
        {
            _log.Warning("{0} ignored: clock disruption support is disabled", signal);
            return;
        }
        if (forced.On == _forced)
        {
            _log.Info("{0} received while forced disruption is already {1}; nothing to do", signal, _forced ? "on" : "off");
            return;
        }

        _forced = forced.On;
        if (forced.On)
        {
            _log.Info("SIGUSR1: forced clock disruption on");
            _publishing = true;
            Step("SIGUSR1 (forced disruption on)", publish: true);
        }
        else
        {
            _log.Info("SIGUSR2: forced clock disruption off; resetting chronyd");
            EnterDisruption("SIGUSR2 (forced disruption off)", _marker);
        }
    }

    /// <summary>Publish Disrupted (with the new marker) first so clients learn the cause, then ask for the reset.</summary>
    private void EnterDisruption(string cause, ulong? marker)
    {
        if (_resetOutstanding)
            _log.Warning("{0} while chronyd is still being reset; asking for another reset", cause);
        _marker = marker;
        _disruption = DisruptionState.Disrupted;
        _resetOutstanding = true;
        _resetEpoch++;
        _publishing = true;
        Step(cause, publish: true);
        _chronyPoller.Tell(new ResetChrony(_resetEpoch));
        Timers.StartPeriodicTimer(ResetResendTimerKey, ResendReset.Instance, ResetResendInterval);
    }

    /// <summary>Twice the longest a poller's failing reset cycle takes (all reset tries, all burst tries, the cool-down):
    /// a live poller always answers or retries by itself within it, so a repeat only restarts a lost request.</summary>
    private TimeSpan ResetResendInterval =>
        2 * (_settings.ResetTries * _settings.ResetRetryInterval + _settings.BurstTries * _settings.BurstRetryInterval
             + _settings.ResetCooldown + 2 * _settings.ChronyTimeout);

    private void OnResendReset()
    {
        if (!_resetOutstanding)
        {
            Timers.Cancel(ResetResendTimerKey);
            return;
        }
        _log.Warning("chronyd's reset has not completed after {0}: asking the poller again", ResetResendInterval);
        _chronyPoller.Tell(new ResetChrony(_resetEpoch));
    }

    private void LogIgnoredVmClockOnce()
    {
        if (_ignoredVmClockLogged)
            return;
        _ignoredVmClockLogged = true;
        _log.Warning("VMClock messages ignored: clock disruption support is disabled");
    }

    // ---------------------------------------------------------------- PHC

    private void OnPhcBoundRead(PhcBoundRead read)
    {
        if (read.ErrorBoundNanoseconds < 0)
        {
            // The reader refuses negative values; one that got through anyway is a failed read, not a smaller bound.
            OnPhcReadFailed(new PhcReadFailed($"PHC error bound of {read.ErrorBoundNanoseconds} ns is negative"));
            return;
        }
        if (_phc is null)
            _log.Info("PHC error bound available: {0} ns", read.ErrorBoundNanoseconds);
        // Reads may complete out of order only across a restart of the reader; the younger one wins.
        if (_phc is null || read.ReadAt >= _phc.ReadAt)
            _phc = read;
    }

    private void OnPhcReadFailed(PhcReadFailed failed)
    {
        if (_phc is not null)
            _log.Warning("PHC error bound unavailable ({0}); polls referenced to the PHC count as failed", failed.Reason);
        _phc = null;
        _phcProblem = failed.Reason;
    }

    /// <summary>Why the PHC bound may not be used by a poll sampled at <paramref name="asOf"/>; null when it may.</summary>
    private string? PhcProblemAt(Timespec asOf)
    {
        if (_phc is not { } phc)
            return _phcProblem;
        long ageNanoseconds = asOf.NanosecondsSince(phc.ReadAt);
        return ageNanoseconds <= ToNanoseconds(_settings.PhcMaxAge)
            ? null
            : $"its last read started {ageNanoseconds / 1_000_000} ms before this poll, more than {_settings.PhcMaxAge.TotalMilliseconds:0} ms";
    }

    // ---------------------------------------------------------------- state machine and publishing

    private void OnFirstPublishDeadline()
    {
        if (_publishing)
            return;
        _log.Info("publishing after {0} ms without all inputs (chrony seen: {1}, VMClock seen: {2})",
            (_settings.ChronyTimeout + _settings.ChronyPollInterval).TotalMilliseconds, _sawChronyInput, _sawVmClockInput);
        _publishing = true;
        Publish();
    }

    /// <summary>Runs the state machine on the current inputs; publishes if asked, on a change, or on the first
    /// moment that all inputs are there.</summary>
    private void Step(string trigger, bool publish)
    {
        var disruption = EffectiveDisruption;
        var next = ClockStatusTransitions.Next(_status, _chrony, disruption, _disruptionSupport);
        var changed = next != _status;
        if (changed)
        {
            var cause = $"{trigger}; chrony {_chrony}, disruption {disruption}, marker {_marker?.ToString() ?? "none"}";
            _log.Info("Clock status {0} -> {1} ({2})", _status, next, cause);
            Context.System.EventStream.Publish(new ClockStatusChanged(_status, next, cause));
            _status = next;
        }

        var becameReady = !_publishing && _sawChronyInput && (_sawVmClockInput || !_disruptionSupport);
        if (becameReady)
            _publishing = true;
        if (_publishing && (publish || changed || becameReady))
            Publish();
    }

    private void Publish()
    {
        Timers.Cancel(FirstPublishTimerKey);
        var (asOf, bound) = _lastGood ?? (default(Timespec), 0L);
        var record = new ClockErrorBound(
            AsOf: asOf,
            VoidAfter: asOf.AddNanoseconds(ToNanoseconds(_settings.VoidAfter)),
            BoundNanoseconds: bound,
            DisruptionMarker: _marker ?? 0,
            MaxDriftPpb: _settings.MaxDriftPpb,
            Status: _status,
            ClockDisruptionSupportEnabled: _disruptionSupport);
        _segmentWriter.Tell(new PublishBound(record));
    }

    /// <summary>One TimeSpan tick is 100 ns.</summary>
    private static long ToNanoseconds(TimeSpan span) => span.Ticks * 100;

    /// <summary>A failed instance → its successor: what only the actor knew and what must survive a restart.</summary>
    private sealed record HandOver(bool Forced, ulong? Marker, long ResetEpoch, (Timespec AsOf, long BoundNanoseconds)? LastGood,
        string Cause);

    private sealed class ChronySilent
    {
        public static readonly ChronySilent Instance = new();
        private ChronySilent() { }
    }

    private sealed class ResendReset
    {
        public static readonly ResendReset Instance = new();
        private ResendReset() { }
    }

    private sealed class FirstPublishDeadline
    {
        public static readonly FirstPublishDeadline Instance = new();
        private FirstPublishDeadline() { }
    }
}
