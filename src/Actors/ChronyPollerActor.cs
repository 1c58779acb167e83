using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ClockBound.Io;
using ClockBound.Io.Chrony;

namespace ClockBound.Actors;

/// <summary>
/// Polls chronyd's tracking every <see cref="ClockBoundSettings.ChronyPollInterval"/> and reports each result to the
/// clock-status actor (<see cref="ChronyTracked"/> / <see cref="ChronyPollFailed"/>). On <see cref="ResetChrony"/> it runs
/// chronyd's reset-sources-then-burst sequence, retrying forever, and reports <see cref="ChronyResetCompleted"/>.
/// </summary>
/// <remarks>
/// No request is awaited in a receive. Polls are due on a periodic timer. The tracking request is sent without
/// waiting (a datagram to a local socket), and its reply is read without waiting <see cref="FirstReplyLook"/> later, on
/// a timer of this actor, then every <see cref="LaterReplyLooks"/> until it is there or the timeout has passed. The first
/// look's timer is periodic, at the poll period and <see cref="FirstReplyLook"/> behind the poll's ticks, so that a
/// steady poll starts no timer at all (a started timer costs Akka's timer, its message, a cancelable with its
/// CancellationTokenSource and the loop's entry; docs/performance-notes.md, "Round 5"); it is started again, in phase
/// with the request, only when a first look comes more than <see cref="FirstLookTolerance"/> before or after
/// <see cref="FirstReplyLook"/> (the first poll, a poll sent late, a stalled loop). A poll
/// thus costs two short wake-ups of the event loop and nothing else: no socket-engine thread waking for the reply and
/// then waking the loop, no task continuations (about a third less CPU per poll than awaiting the reply,
/// docs/performance-notes.md, "Idle CPU, round 3"). as_of is read before the request, so a reply read later only makes the bound
/// more pessimistic. At most one poll is in flight: a tick that finds one still waiting for chronyd is skipped, so
/// polls never pile up. The reset sequence's requests are rare: each is started as a task with the client's own
/// timeout, whose outcome is piped back as a private message.
/// chronyd restarts are normal: any failed request closes the client socket, and the next poll connects again.
/// The reset sequence uses its own <see cref="ChronyClient"/> (its own socket), so it never shares a socket with an
/// in-flight poll, and polling goes on while it runs. A <see cref="ResetChrony"/> of a new epoch that arrives while a
/// sequence runs restarts it from "reset sources" (after the request in flight, if any, completes): samples taken before
/// the newer disruption must go too. A repeat of the epoch already running (the clock-status actor repeats a request
/// that may have been lost) lets the sequence go on. <see cref="ChronyResetCompleted"/> carries the epoch of the
/// sequence that completed. After it, chronyd is polled every <see cref="RecoveryPollInterval"/> until it says it is
/// synchronised again, then at the configured interval.
/// </remarks>
public sealed class ChronyPollerActor : ReceiveActor, IWithTimers
{
    private const string PollTimerKey = "poll";
    private const string ResetTimerKey = "reset-step";
    /// <summary>The periodic first look at a poll's reply.</summary>
    private const string FirstLookTimerKey = "reply-first-look";
    /// <summary>The later looks at a reply that was not there at the first.</summary>
    private const string LaterLookTimerKey = "reply-later-look";

    /// <summary>How soon after the request its reply is first looked for. A chronyd that is awake answers a local request
    /// within tens of microseconds (12 µs median, 29 µs p99 here); an idle one must be woken first. At 250 µs about nine
    /// first looks in ten find the reply (at 100 µs, three to four in five), and the loop's sleep is still short.</summary>
    private static readonly TimeSpan FirstReplyLook = TimeSpan.FromMicroseconds(250);

    /// <summary>How often the reply of a slower chronyd is looked for after the first look, until the timeout.</summary>
    private static readonly TimeSpan LaterReplyLooks = TimeSpan.FromMilliseconds(1);

    /// <summary>After a reset completes, chronyd is polled this often until it says it is synchronised again, so that
    /// what clients wait for after a disruption is chronyd's own re-synchronisation and not up to one more poll interval
    /// (100 ms by default, 1 s in some fleets). 10 ms: a tenth of the default interval, about 50 polls during a typical
    /// recovery of half a second, each a few hundred microseconds of CPU; chronyd answers a local request in tens of
    /// microseconds.</summary>
    private static readonly TimeSpan RecoveryPollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>The fast polling after a reset ends at the latest this long after it began: a chronyd that cannot
    /// synchronise (its server gone) is then polled at the configured interval again.</summary>
    private static readonly TimeSpan RecoveryPollLimit = TimeSpan.FromSeconds(10);

    /// <summary>How far a first look may come from <see cref="FirstReplyLook"/> after the request before its periodic timer
    /// is put back in phase with the requests. Larger than the jitter of two timers on the loop (the thread's timer slack
    /// is 50 µs), so that a steady poll keeps its timer.</summary>
    private static readonly TimeSpan FirstLookTolerance = TimeSpan.FromMicroseconds(100);

    private readonly ClockBoundSettings _settings;
    private readonly IActorRef _clockStatus;
    private readonly Func<ChronyClient> _connect;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    private readonly RepeatedFailureLog _pollFailures;
    private readonly RepeatedFailureLog _resetFailures;

    private ChronyClient? _client;
    /// <summary>The poll whose reply is awaited; null when no poll is in flight.</summary>
    private PendingPoll? _pending;
    /// <summary>The period of the polls now: the configured one, or <see cref="RecoveryPollInterval"/> after a reset.</summary>
    private TimeSpan _pollInterval;

    private ChronyClient? _resetClient;
    private ResetPhase _resetPhase = ResetPhase.Idle;
    private int _resetAttempt;
    private bool _resetStepInFlight;
    /// <summary>The epoch of the reset sequence running (or last run).</summary>
    private long _resetEpoch;
    /// <summary>A newer epoch asked for while a step was in flight: the sequence restarts with it when the step ends.</summary>
    private long? _resetRestartEpoch;
    /// <summary>When the fast polling after a completed reset began (Stopwatch timestamp); null at the configured rate.</summary>
    private long? _recoveringSince;

    public ChronyPollerActor(ClockBoundSettings settings, IActorRef clockStatus, Func<ChronyClient>? connect = null)
    {
        _settings = settings;
        _clockStatus = clockStatus;
        // The timeout limits the reset sequence's requests; the poll's own requests never wait (its timer keeps the time).
        _connect = connect ?? (() => ChronyClient.Connect(
            settings.ChronySocketPath, settings.ChronyClientSocketDirectory, settings.ChronyTimeout));
        _pollFailures = new RepeatedFailureLog(_log, $"chronyd tracking poll ({settings.ChronySocketPath})");
        _resetFailures = new RepeatedFailureLog(_log, $"chronyd reset after disruption ({settings.ChronySocketPath})");

        Receive<Poll>(_ => StartPoll());
        Receive<FirstLook>(_ => OnFirstLook());
        Receive<LookAgain>(_ => OnLookAgain());
        Receive<ResetChrony>(OnResetRequested);
        Receive<ResetStep>(_ => StartResetStep());
        Receive<ResetStepSucceeded>(_ => OnResetStepSucceeded());
        Receive<ResetStepFailed>(OnResetStepFailed);
        Receive<InjectFault>(InjectFault.Throw);
    }

    /// <summary>Props; <paramref name="connect"/> replaces <see cref="ChronyClient.Connect"/> (tests, other sockets).</summary>
    public static Props Props(ClockBoundSettings settings, IActorRef clockStatus, Func<ChronyClient>? connect = null) =>
        Akka.Actor.Props.Create(() => new ChronyPollerActor(settings, clockStatus, connect));

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Polls at once, then every period; the first poll connects (as every poll after a failure does).</summary>
    protected override void PreStart()
    {
        Self.Tell(Poll.Instance);
        _pollInterval = _settings.ChronyPollInterval;
        Timers.StartPeriodicTimer(PollTimerKey, Poll.Instance, _pollInterval);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _client?.Dispose();
        _resetClient?.Dispose();
    }

    // ---- tracking poll ----

    private void StartPoll()
    {
        if (_recoveringSince is { } since && Stopwatch.GetElapsedTime(since) >= RecoveryPollLimit)
            EndRecoveryPolling();
        if (_pending is not null)
            return; // the previous poll is still waiting for chronyd
        if (_client is null)
        {
            _client = TryConnect(out var failure);
            if (_client is null)
            {
                // No chronyd (restarting, or not yet started) or no permission: report it, connect again next time.
                ReportPollFailure(failure!);
                return;
            }
        }

        // as_of is read BEFORE the request: a late reply can only make the bound more pessimistic.
        var asOf = Clocks.MonotonicCoarse();
        long startedAt = Stopwatch.GetTimestamp();
        try
        {
            _pending = new PendingPoll(_client.SendTracking(), asOf, startedAt);
        }
        catch (Exception ex)
        {
            PollFailed(ex);
            return;
        }
        // The periodic first look is stopped by a failed poll and by a change of the poll interval: the next request starts it.
        if (!Timers.IsTimerActive(FirstLookTimerKey))
            StartFirstLooks(FirstReplyLook);
    }

    /// <summary>Starts the periodic first look, the next one after <paramref name="delay"/>.</summary>
    private void StartFirstLooks(TimeSpan delay)
    {
        Timers.StartPeriodicTimer(FirstLookTimerKey, FirstLook.Instance, delay, _pollInterval);
    }

    /// <summary>The periodic first look: looks for the reply of a poll not yet looked at, about <see cref="FirstReplyLook"/>
    /// after its request (a poll that is already waiting for its later looks, or no poll, lets it pass).</summary>
    private void OnFirstLook()
    {
        if (_pending is not { Looked: false } poll) return;
        var elapsed = Stopwatch.GetElapsedTime(poll.StartedAt);
        if (elapsed < FirstReplyLook - FirstLookTolerance)
        {
            // Out of phase, ahead of the request: this look is moved to FirstReplyLook after it, and the next ones with it.
            StartFirstLooks(FirstReplyLook - elapsed);
            return;
        }
        if (elapsed > FirstReplyLook + FirstLookTolerance)
        {
            // Out of phase, behind: look now, and from the next request on FirstReplyLook after it.
            var next = _pollInterval + FirstReplyLook - elapsed;
            StartFirstLooks(next > FirstReplyLook ? next : FirstReplyLook);
        }
        LookForReply(poll);
    }

    private void OnLookAgain()
    {
        if (_pending is { } poll) LookForReply(poll);
    }

    private void LookForReply(PendingPoll poll)
    {
        _pending = poll with { Looked = true };
        TrackingReply reply;
        try
        {
            if (!_client!.TryReceiveTracking(poll.Sequence, out reply))
            {
                if (Stopwatch.GetElapsedTime(poll.StartedAt) < _settings.ChronyTimeout)
                    Timers.StartSingleTimer(LaterLookTimerKey, LookAgain.Instance, LaterReplyLooks);
                else
                    PollFailed(new ChronyException(ChronyErrorKind.Timeout, _settings.ChronySocketPath,
                        $"chronyd at {_settings.ChronySocketPath} did not answer tracking within {_settings.ChronyTimeout.TotalMilliseconds:0} ms"));
                return;
            }
        }
        catch (Exception ex)
        {
            PollFailed(ex);
            return;
        }

        _pending = null;
        if (_recoveringSince is { } since &&
            (reply.LeapStatus != LeapStatus.Unsynchronised || Stopwatch.GetElapsedTime(since) >= RecoveryPollLimit))
            EndRecoveryPolling();
        var tracked = new ChronyTracked(reply, poll.AsOf, Clocks.Realtime()) { RoundTrip = Stopwatch.GetElapsedTime(poll.StartedAt) };
        _clockStatus.Tell(tracked);
        Context.System.EventStream.Publish(tracked);
        _pollFailures.Success();
    }

    private void PollFailed(Exception cause)
    {
        _pending = null;
        Timers.Cancel(LaterLookTimerKey);
        // No periodic look while no request is sent (chronyd gone: every poll fails to connect); the next request starts it.
        Timers.Cancel(FirstLookTimerKey);
        // Start the next poll on a fresh socket: after a chronyd restart the old one is connected to a dead socket,
        // and a late reply to this request must not be taken for the next one's.
        _client?.Dispose();
        _client = null;
        ReportPollFailure(cause);
    }

    private void ReportPollFailure(Exception cause)
    {
        var kind = KindOf(cause);
        var failed = new ChronyPollFailed(Clocks.MonotonicCoarse(), kind, cause.Message);
        _clockStatus.Tell(failed);
        Context.System.EventStream.Publish(failed);
        // A permission problem does not go away by itself: say so loudly (the message names the socket path).
        _pollFailures.Failure($"{kind}: {cause.Message}", kind == ChronyErrorKind.PermissionDenied ? LogLevel.ErrorLevel : LogLevel.WarningLevel);
    }

    // ---- reset sources + burst after a disruption ----

    private void OnResetRequested(ResetChrony request)
    {
        if (_resetPhase == ResetPhase.Idle)
        {
            _log.Info("Resetting chronyd's sources and requesting a burst after a clock disruption (reset {0})", request.Epoch);
            BeginResetSequence(request.Epoch);
        }
        else if (request.Epoch == _resetEpoch && _resetRestartEpoch is null)
        {
            _log.Debug("Reset {0} of chronyd requested again while it runs; it goes on", request.Epoch);
        }
        else if (_resetStepInFlight)
        {
            _log.Info("Reset {0} of chronyd requested while reset {1} runs; restarting it after the request in flight",
                request.Epoch, _resetEpoch);
            _resetRestartEpoch = request.Epoch;
        }
        else
        {
            _log.Info("Reset {0} of chronyd requested while reset {1} runs; restarting it now", request.Epoch, _resetEpoch);
            BeginResetSequence(request.Epoch);
        }
    }

    private void BeginResetSequence(long epoch)
    {
        EndRecoveryPolling(); // a new disruption: the fast polling starts again when this reset completes
        _resetRestartEpoch = null;
        _resetEpoch = epoch;
        _resetPhase = ResetPhase.Resetting;
        _resetAttempt = 0;
        StartResetStep();
    }

    private void StartResetStep()
    {
        Timers.Cancel(ResetTimerKey);
        if (_resetPhase == ResetPhase.CoolingDown)
        {
            _log.Info("Retrying the reset of chronyd after the cool-down");
            _resetPhase = ResetPhase.Resetting;
            _resetAttempt = 0;
        }

        _resetAttempt++;
        _resetStepInFlight = true;
        if (_resetClient is null)
        {
            _resetClient = TryConnect(out var failure);
            if (_resetClient is null)
            {
                Self.Tell(new ResetStepFailed(failure!));
                return;
            }
        }

        var client = _resetClient;
        var token = _stopping.Token;
        var step = _resetPhase == ResetPhase.Resetting
            ? Run(() => client.ResetSourcesAsync(token))
            : Run(() => client.BurstAsync(_settings.BurstGoodSamples, _settings.BurstTotalSamples, token));
        step.PipeTo(Self, success: () => ResetStepSucceeded.Instance, failure: ex => new ResetStepFailed(ex));
    }

    private void OnResetStepSucceeded()
    {
        _resetStepInFlight = false;
        if (_resetRestartEpoch is { } restartEpoch)
        {
            BeginResetSequence(restartEpoch);
            return;
        }

        _resetFailures.Success();
        if (_resetPhase == ResetPhase.Resetting)
        {
            _log.Info("chronyd reset its sources; requesting a burst of {0} good of {1} samples",
                _settings.BurstGoodSamples, _settings.BurstTotalSamples);
            _resetPhase = ResetPhase.Bursting;
            _resetAttempt = 0;
            StartResetStep();
            return;
        }

        _log.Info("chronyd accepted the burst: reset after the disruption completed");
        CompleteReset();
    }

    /// <summary>The sequence is over: chronyd's sources were reset and the burst was accepted or cannot be had.</summary>
    private void CompleteReset()
    {
        _resetPhase = ResetPhase.Idle;
        _resetClient?.Dispose();
        _resetClient = null;
        var completed = new ChronyResetCompleted(_resetEpoch);
        _clockStatus.Tell(completed);
        Context.System.EventStream.Publish(completed);
        BeginRecoveryPolling();
    }

    /// <summary>Polls every <see cref="RecoveryPollInterval"/> (at once first) until a reply says chronyd is synchronised
    /// (or <see cref="RecoveryPollLimit"/> has passed); nothing changes if the configured interval is as short.</summary>
    private void BeginRecoveryPolling()
    {
        if (_settings.ChronyPollInterval <= RecoveryPollInterval) return;
        _recoveringSince = Stopwatch.GetTimestamp();
        SetPollInterval(RecoveryPollInterval);
        Self.Tell(Poll.Instance);
    }

    private void EndRecoveryPolling()
    {
        if (_recoveringSince is null) return;
        _recoveringSince = null;
        SetPollInterval(_settings.ChronyPollInterval);
    }

    /// <summary>Polls every <paramref name="interval"/> from now on; the periodic first look follows from the next request,
    /// in phase with it (a poll in flight is looked at on the later looks' timer).</summary>
    private void SetPollInterval(TimeSpan interval)
    {
        _pollInterval = interval;
        Timers.StartPeriodicTimer(PollTimerKey, Poll.Instance, interval);
        Timers.Cancel(FirstLookTimerKey);
        if (_pending is { Looked: false })
            Timers.StartSingleTimer(LaterLookTimerKey, LookAgain.Instance, FirstReplyLook);
    }

    private void OnResetStepFailed(ResetStepFailed m)
    {
        _resetStepInFlight = false;
        _resetClient?.Dispose();
        _resetClient = null;
        if (_resetRestartEpoch is { } restartEpoch)
        {
            BeginResetSequence(restartEpoch);
            return;
        }

        var cause = PipedFailure.Cause(m.Cause);
        if (_resetPhase == ResetPhase.Bursting && KindOf(cause) == ChronyErrorKind.NoSuchSource)
        {
            // A chronyd without any NTP source (a PHC or other reference clocks only) refuses every burst with "no such
            // source": retrying would keep the daemon Disrupted forever. Its sources were reset, which is all a reset can
            // do there, so that completes it (daemon-behaviour.md, "Disruption handling"; the reference has no such rule).
            _log.Info("chronyd refused the burst for lack of NTP sources (reference clocks only); its sources were reset, " +
                "so the reset after the disruption completed");
            _resetFailures.Success();
            CompleteReset();
            return;
        }

        var (what, tries, retryInterval) = _resetPhase == ResetPhase.Resetting
            ? ("reset sources", _settings.ResetTries, _settings.ResetRetryInterval)
            : ("burst", _settings.BurstTries, _settings.BurstRetryInterval);
        _resetFailures.Failure($"{what} failed: {KindOf(cause)}: {cause.Message}");

        if (_resetAttempt < tries)
        {
            Timers.StartSingleTimer(ResetTimerKey, ResetStep.Instance, retryInterval);
            return;
        }

        _log.Warning("chronyd {0} failed {1} times; starting the reset again in {2}", what, tries, _settings.ResetCooldown);
        _resetPhase = ResetPhase.CoolingDown;
        Timers.StartSingleTimer(ResetTimerKey, ResetStep.Instance, _settings.ResetCooldown);
    }

    // ---- helpers ----

    private ChronyClient? TryConnect(out Exception? failure)
    {
        try
        {
            failure = null;
            return _connect();
        }
        catch (Exception ex)
        {
            failure = ex;
            return null;
        }
    }

    /// <summary>Starts a request; an exception thrown before the task exists becomes a faulted task (one failure path).</summary>
    private static Task<T> Run<T>(Func<Task<T>> start)
    {
        try { return start(); }
        catch (Exception ex) { return Task.FromException<T>(ex); }
    }

    private static Task Run(Func<Task> start)
    {
        try { return start(); }
        catch (Exception ex) { return Task.FromException(ex); }
    }

    private static ChronyErrorKind KindOf(Exception ex) => ex switch
    {
        ChronyException ce => ce.Kind,
        OperationCanceledException => ChronyErrorKind.Timeout,
        _ => ChronyErrorKind.Socket,
    };

    private enum ResetPhase { Idle, Resetting, Bursting, CoolingDown }

    private sealed class Poll
    {
        public static readonly Poll Instance = new();
        private Poll() { }
    }

    private sealed class FirstLook
    {
        public static readonly FirstLook Instance = new();
        private FirstLook() { }
    }

    private sealed class LookAgain
    {
        public static readonly LookAgain Instance = new();
        private LookAgain() { }
    }

    private sealed class ResetStep
    {
        public static readonly ResetStep Instance = new();
        private ResetStep() { }
    }

    private sealed class ResetStepSucceeded
    {
        public static readonly ResetStepSucceeded Instance = new();
        private ResetStepSucceeded() { }
    }

    /// <summary>A tracking request in flight: its sequence number, the as_of read before it, when it was sent, and whether
    /// its reply was looked for yet. A struct: one poll, one less object.</summary>
    private readonly record struct PendingPoll(uint Sequence, Timespec AsOf, long StartedAt, bool Looked = false);

    private sealed record ResetStepFailed(Exception Cause);
}
