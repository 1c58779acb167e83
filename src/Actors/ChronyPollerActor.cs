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
/// No request is awaited in a receive: each is started as a task whose outcome is piped back as a private message.
/// Polls are due on a periodic timer (a fixed rate: with the daemon's <see cref="Hosting.LoopScheduler"/> each tick
/// costs one wake-up of the event loop and nothing else). At most one poll is in flight: a tick that finds one still
/// waiting for chronyd (a slow chronyd, up to the timeout) is skipped, so polls never pile up. The poll's timeout is a
/// timer of this actor that cancels the request: the polling client arms no .NET timer of its own, whose thread would
/// wake and hand the expiry to a pool worker after every request (about 0.07 s of CPU a minute, BENCHMARKS.md).
/// The reset sequence's requests are rare and keep the client's own timeout.
/// chronyd restarts are normal: any failed request closes the client socket, and the next poll connects again.
/// The reset sequence uses its own <see cref="ChronyClient"/> (its own socket), so it never shares a socket with an
/// in-flight poll, and polling goes on while it runs. A <see cref="ResetChrony"/> that arrives while a sequence runs
/// restarts it from "reset sources" (after the request in flight, if any, completes).
/// </remarks>
public sealed class ChronyPollerActor : ReceiveActor, IWithTimers
{
    private const string PollTimerKey = "poll";
    private const string ResetTimerKey = "reset-step";
    private const string PollTimeoutTimerKey = "poll-timeout";

    private readonly ClockBoundSettings _settings;
    private readonly IActorRef _clockStatus;
    /// <summary>Opens a client whose requests time out after the given time (InfiniteTimeSpan: never by themselves).</summary>
    private readonly Func<TimeSpan, ChronyClient> _connect;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly CancellationTokenSource _stopping = new();
    private readonly RepeatedFailureLog _pollFailures;
    private readonly RepeatedFailureLog _resetFailures;

    private ChronyClient? _client;
    /// <summary>Cancels the poll in flight when its timeout timer fires (or the actor stops); null when no poll is in flight.
    /// Cancelled while the actor runs means: the poll timed out.</summary>
    private CancellationTokenSource? _pollCancel;

    private ChronyClient? _resetClient;
    private ResetPhase _resetPhase = ResetPhase.Idle;
    private int _resetAttempt;
    private bool _resetStepInFlight;
    private bool _resetRestartRequested;

    public ChronyPollerActor(ClockBoundSettings settings, IActorRef clockStatus, Func<TimeSpan, ChronyClient>? connect = null)
    {
        _settings = settings;
        _clockStatus = clockStatus;
        _connect = connect ?? (timeout => ChronyClient.Connect(
            settings.ChronySocketPath, settings.ChronyClientSocketDirectory, timeout));
        _pollFailures = new RepeatedFailureLog(_log, $"chronyd tracking poll ({settings.ChronySocketPath})");
        _resetFailures = new RepeatedFailureLog(_log, $"chronyd reset after disruption ({settings.ChronySocketPath})");

        Receive<Poll>(_ => StartPoll());
        Receive<PollSucceeded>(OnPollSucceeded);
        Receive<PollFailed>(OnPollFailed);
        Receive<PollTimedOut>(_ => OnPollTimedOut());
        Receive<ResetChrony>(_ => OnResetRequested());
        Receive<ResetStep>(_ => StartResetStep());
        Receive<ResetStepSucceeded>(_ => OnResetStepSucceeded());
        Receive<ResetStepFailed>(OnResetStepFailed);
        Receive<InjectFault>(InjectFault.Throw);
    }

    /// <summary>Props; <paramref name="connect"/> (given the request timeout) replaces <see cref="ChronyClient.Connect"/>.</summary>
    public static Props Props(ClockBoundSettings settings, IActorRef clockStatus, Func<TimeSpan, ChronyClient>? connect = null) =>
        Akka.Actor.Props.Create(() => new ChronyPollerActor(settings, clockStatus, connect));

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Polls at once, then every period; the first poll connects (as every poll after a failure does).</summary>
    protected override void PreStart()
    {
        Self.Tell(Poll.Instance);
        Timers.StartPeriodicTimer(PollTimerKey, Poll.Instance, _settings.ChronyPollInterval);
    }

    protected override void PostStop()
    {
        _stopping.Cancel();
        _pollCancel?.Cancel();
        _client?.Dispose();
        _resetClient?.Dispose();
    }

    // ---- tracking poll ----

    private void StartPoll()
    {
        if (_pollCancel is not null)
            return; // the previous poll is still waiting for chronyd
        if (_client is null)
        {
            _client = TryConnect(Timeout.InfiniteTimeSpan, out var failure);
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
        var client = _client;
        var cancel = _pollCancel = new CancellationTokenSource();
        Timers.StartSingleTimer(PollTimeoutTimerKey, PollTimedOut.Instance, _settings.ChronyTimeout);
        Run(() => client.GetTrackingAsync(cancel.Token)).PipeTo(
            Self,
            success: reply => new PollSucceeded(reply, asOf, startedAt),
            failure: ex => new PollFailed(ex));
    }

    private void OnPollSucceeded(PollSucceeded m)
    {
        EndPoll();
        var tracked = new ChronyTracked(m.Reply, m.AsOf, Clocks.Realtime()) { RoundTrip = Stopwatch.GetElapsedTime(m.StartedAt) };
        _clockStatus.Tell(tracked);
        Context.System.EventStream.Publish(tracked);
        _pollFailures.Success();
    }

    private void OnPollFailed(PollFailed m)
    {
        var timedOut = _pollCancel?.IsCancellationRequested == true;
        EndPoll();
        // Start the next poll on a fresh socket: after a chronyd restart the old one is connected to a dead socket,
        // and a late reply to this request must not be taken for the next one's.
        _client?.Dispose();
        _client = null;
        var cause = Unwrap(m.Cause);
        ReportPollFailure(timedOut && cause is OperationCanceledException
            ? new ChronyException(ChronyErrorKind.Timeout, _settings.ChronySocketPath,
                $"chronyd at {_settings.ChronySocketPath} did not answer tracking within {_settings.ChronyTimeout.TotalMilliseconds:0} ms")
            : cause);
    }

    /// <summary>The poll's timeout timer fired while it was still in flight: cancel it (it then fails as a timeout).</summary>
    private void OnPollTimedOut() => _pollCancel?.Cancel();

    private void EndPoll()
    {
        Timers.Cancel(PollTimeoutTimerKey);
        _pollCancel?.Dispose();
        _pollCancel = null;
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

    private void OnResetRequested()
    {
        if (_resetPhase == ResetPhase.Idle)
        {
            _log.Info("Resetting chronyd's sources and requesting a burst after a clock disruption");
            BeginResetSequence();
        }
        else if (_resetStepInFlight)
        {
            _log.Info("Reset of chronyd requested again while one runs; restarting it after the request in flight");
            _resetRestartRequested = true;
        }
        else
        {
            _log.Info("Reset of chronyd requested again while one runs; restarting it now");
            BeginResetSequence();
        }
    }

    private void BeginResetSequence()
    {
        _resetRestartRequested = false;
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
            _resetClient = TryConnect(_settings.ChronyTimeout, out var failure);
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
        if (_resetRestartRequested)
        {
            BeginResetSequence();
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
        _resetPhase = ResetPhase.Idle;
        _resetClient?.Dispose();
        _resetClient = null;
        _clockStatus.Tell(ChronyResetCompleted.Instance);
        Context.System.EventStream.Publish(ChronyResetCompleted.Instance);
    }

    private void OnResetStepFailed(ResetStepFailed m)
    {
        _resetStepInFlight = false;
        _resetClient?.Dispose();
        _resetClient = null;
        if (_resetRestartRequested)
        {
            BeginResetSequence();
            return;
        }

        var cause = Unwrap(m.Cause);
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

    private ChronyClient? TryConnect(TimeSpan timeout, out Exception? failure)
    {
        try
        {
            failure = null;
            return _connect(timeout);
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

    private static Exception Unwrap(Exception ex) =>
        ex is AggregateException { InnerExceptions.Count: 1 } agg ? Unwrap(agg.InnerExceptions[0]) : ex;

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

    private sealed class PollTimedOut
    {
        public static readonly PollTimedOut Instance = new();
        private PollTimedOut() { }
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

    private sealed record PollSucceeded(TrackingReply Reply, Timespec AsOf, long StartedAt);

    private sealed record PollFailed(Exception Cause);

    private sealed record ResetStepFailed(Exception Cause);
}
