using Akka.Actor;
using Akka.TestKit;
using ClockBound.Actors.Tests.Scenarios;
using ClockBound.Io;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.Tests.Model;

/// <summary>A safety invariant failed; the message holds the violations and the resolved trace of the run.</summary>
public sealed class InvariantViolatedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What the generated sequences exercised, so that a passing property is known not to be vacuous.</summary>
public sealed class ModelCoverage
{
    public long Sequences;
    public long Steps;
    public long Publications;
    public long Restarts;
    public long Disrupted;
    /// <summary>Synchronized published after some reset of chronyd completed (the recovery path of a disruption).</summary>
    public long SynchronizedAfterAReset;
    /// <summary>Synchronized published with a PHC term in the bound.</summary>
    public long SynchronizedOnThePhc;

    public override string ToString() =>
        $"{Sequences} sequences, {Steps} steps, {Publications} publications, {Restarts} restarts, {Disrupted} Disrupted, "
        + $"{SynchronizedAfterAReset} Synchronized after a completed reset, {SynchronizedOnThePhc} Synchronized on the PHC";
}

/// <summary>
/// Applies one <see cref="ModelScenario"/> to a fresh clock-status actor with fresh probes in the test kit's actor
/// system, records inputs and outputs in a <see cref="ModelHistory"/>, and checks <see cref="SafetyInvariants"/> after
/// every step. Virtual time: the actor's monotonic clock and the system's <see cref="TestScheduler"/> move together and
/// only in <see cref="ModelStep.TimePasses"/>.
/// </summary>
/// <remarks>
/// Knowing that a step has been processed, without sleeping: after each input the run sends <see cref="Identify"/> to
/// the actor with the writer probe as sender and reads the writer probe until the matching <see cref="ActorIdentity"/>.
/// The mailbox is FIFO, so the actor handled the input (and any timer messages that TestScheduler.Advance enqueued
/// synchronously) before the Identify; the probes run on the test kit's calling-thread dispatcher, so every PublishBound
/// and ResetChrony the actor sent before answering is already in the probes' queues when the answer is read. The poller
/// probe is then drained without waiting.
/// A restart needs two rounds: the failing instance's mailbox is suspended until the supervisor recreates it, and
/// PreRestart queues the hand-over behind the first Identify, which the ActorCell answers itself even while the new
/// instance stashes. The first answer therefore proves that the restart happened; the second Identify is queued behind
/// the hand-over, so its answer proves that the new instance has taken it over and published what it publishes.
/// </remarks>
public sealed class SequenceRun
{
    /// <summary>The marker the VMClock shows first (<see cref="MarkerChoice.Current"/> before any reading), and most
    /// previous runs' marker: a warm restart then adopts it.</summary>
    public const ulong FirstMarker = 7;

    /// <summary>A poller has at most one poll in flight; three lets replies cross several other inputs and a reset.</summary>
    private const int MaxInFlight = 3;

    /// <summary>Only a guard against a hung actor (the answer takes microseconds): it never delays a passing run.</summary>
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(10);

    private readonly TestKitBase _kit;
    private readonly ModelScenario _scenario;
    private readonly ModelCoverage _coverage;
    private readonly ManualMonotonicClock _clock = new(new Timespec(5_000, 0));
    private readonly TestProbe _writer;
    private readonly TestProbe _poller;
    private readonly IActorRef _actor;
    private readonly ModelHistory _history;
    private readonly List<string> _trace = [];
    private readonly Queue<Timespec> _inFlight = new();
    private readonly List<ulong> _markersShown = [];
    private long _latestEpoch;
    private int _identifyId;

    private SequenceRun(TestKitBase kit, ModelScenario scenario, ModelCoverage coverage)
    {
        _kit = kit;
        _scenario = scenario;
        _coverage = coverage;
        var settings = scenario.Settings;
        _history = new ModelHistory(scenario, settings);
        _writer = kit.CreateTestProbe();
        _poller = kit.CreateTestProbe();
        _actor = kit.Sys.ActorOf(ClockStatusActor.Props(settings, scenario.Previous.ToPreviousRun(), _writer, _poller, _clock.Now));
    }

    /// <summary>Runs <paramref name="scenario"/>; throws <see cref="InvariantViolatedException"/> on the first step after
    /// which an invariant fails.</summary>
    public static void Run(TestKitBase kit, ModelScenario scenario, ModelCoverage coverage)
    {
        var run = new SequenceRun(kit, scenario, coverage);
        try
        {
            run.Execute();
        }
        finally
        {
            kit.Sys.Stop(run._actor);
            kit.Sys.Stop(run._writer.Ref);
            kit.Sys.Stop(run._poller.Ref);
        }
    }

    private TestScheduler Scheduler => (TestScheduler)_kit.Sys.Scheduler;

    private void Execute()
    {
        _coverage.Sequences++;
        Settle("start");
        for (int i = 0; i < _scenario.Steps.Length; i++)
        {
            _coverage.Steps++;
            _history.Step = i + 1;
            var what = Apply(_scenario.Steps[i]);
            Settle($"{i + 1,2}. {what}");
            if (_scenario.Steps[i] is ModelStep.Restart)
                Settle("    (hand-over taken)");
        }
    }

    /// <summary>Delivers one step's input and returns it, resolved, for the trace.</summary>
    private string Apply(ModelStep step)
    {
        var now = _clock.Now();
        switch (step)
        {
            case ModelStep.PollSent:
                if (_inFlight.Count == MaxInFlight)
                    _inFlight.Dequeue();
                _inFlight.Enqueue(now);
                return $"poll sent at {now}";

            case ModelStep.Tracked t:
            {
                Timespec asOf;
                if (t.ToOldestInFlight && _inFlight.Count > 0)
                    asOf = _inFlight.Dequeue();
                else
                {
                    asOf = now;
                    _inFlight.Clear(); // the poller answers in order: older requests in flight are lost
                }
                var reply = Reply(t);
                _history.Replies.Add(new(_history.Next(), asOf, reply));
                _actor.Tell(new ChronyTracked(reply, asOf, Tracking.Realtime));
                return $"{t} -> as_of {asOf} (now {now})";
            }

            case ModelStep.PollFailed:
                if (_inFlight.Count > 0)
                    _inFlight.Dequeue();
                _history.Next();
                _actor.Tell(new ChronyPollFailed(now, ChronyErrorKind.Timeout, "model: no reply"));
                return $"chrony poll failed at {now}";

            case ModelStep.TimePasses p:
                _history.Next();
                var span = TimeSpan.FromMilliseconds(p.Milliseconds);
                _clock.Advance(span);
                Scheduler.Advance(span);
                return $"{p.Milliseconds} ms pass -> now {_clock.Now()}";

            case ModelStep.VmClock v:
            {
                var marker = Resolve(v.Marker);
                _markersShown.Add(marker);
                _history.Markers.Add(new(_history.Next(), marker));
                _actor.Tell(new VmClockObserved(marker));
                return $"VMClock marker {marker} ({v.Marker})";
            }

            case ModelStep.VmClockGone:
                _history.Next();
                _actor.Tell(new VmClockUnavailable("model: device unreadable"));
                return "VMClock unavailable";

            case ModelStep.ResetCompleted c:
            {
                var epoch = c.Epoch switch
                {
                    EpochChoice.Latest => Math.Max(_latestEpoch, 1),
                    EpochChoice.Older => Math.Max(_latestEpoch - 1, 0),
                    _ => _latestEpoch + 1,
                };
                _history.Completions.Add(new(_history.Next(), now, epoch));
                _actor.Tell(new ChronyResetCompleted(epoch));
                return $"chronyd reset {epoch} completed at {now} ({c.Epoch}; latest requested {_latestEpoch})";
            }

            case ModelStep.Signal s:
                _history.Signals.Add(new(_history.Next(), s.Sigusr1));
                _actor.Tell(new ForcedDisruption(s.Sigusr1));
                return s.ToString();

            case ModelStep.PhcRead r:
            {
                var readAt = now.AddNanoseconds(-r.AgeMilliseconds * 1_000_000L);
                _history.PhcReads.Add(new(_history.Next(), r.Nanoseconds, readAt));
                _actor.Tell(new PhcBoundRead(r.Nanoseconds, readAt));
                return $"PHC bound {r.Nanoseconds} ns read at {readAt}";
            }

            case ModelStep.PhcFailed:
                _history.Next();
                _actor.Tell(new PhcReadFailed("model: sysfs read failed"));
                return "PHC read failed";

            case ModelStep.Restart:
                _coverage.Restarts++;
                _history.Next();
                _actor.Tell(new InjectFault("model"));
                return "clock-status actor crashes (InjectFault)";

            default:
                throw new ArgumentOutOfRangeException(nameof(step), step, "unknown step");
        }
    }

    private ulong Resolve(MarkerChoice choice)
    {
        ulong? current = _markersShown.Count > 0 ? _markersShown[^1] : null;
        return choice switch
        {
            MarkerChoice.Current => current ?? FirstMarker,
            MarkerChoice.New => Math.Max(_markersShown.DefaultIfEmpty(FirstMarker).Max(), FirstMarker + 1) + 1,
            _ => _markersShown.Where(m => m != current).Cast<ulong?>().FirstOrDefault()
                 ?? (current == FirstMarker ? FirstMarker + 1 : FirstMarker),
        };
    }

    private static TrackingReply Reply(ModelStep.Tracked t)
    {
        var (referenceTime, interval) = t.Reference switch
        {
            ReferenceAge.Fresh => (Tracking.Realtime.AddSeconds(-1), 2.0),
            ReferenceAge.Stale => (Tracking.Realtime.AddSeconds(-100), 2.0),
            ReferenceAge.ZeroInterval => (Tracking.Realtime.AddSeconds(-1), 0.0),
            _ => (Tracking.Realtime.AddSeconds(1), 2.0),
        };
        return Tracking.Reply(t.Leap, t.ReferencedToPhc ? Tracking.PhcRefId : Tracking.NtpRefId, referenceTime) with
        {
            RootDelay = t.RootDelay,
            RootDispersion = t.RootDispersion,
            CurrentCorrection = t.CurrentCorrection,
            LastUpdateInterval = interval,
        };
    }

    /// <summary>Waits until the actor has processed everything sent so far (see the remarks), records what it published
    /// and asked, and checks the invariants on each of them.</summary>
    private void Settle(string what)
    {
        _trace.Add(what);
        int id = ++_identifyId;
        _actor.Tell(new Identify(id), _writer.Ref);
        var published = new List<ModelHistory.Publication>();
        while (true)
        {
            var message = _writer.ReceiveOne(SettleLimit)
                          ?? throw new TimeoutException($"the clock-status actor did not answer Identify within {SettleLimit}{Trace()}");
            if (message is ActorIdentity identity && Equals(identity.MessageId, id))
                break;
            if (message is not PublishBound { Bound: var bound })
                throw new InvalidOperationException($"the segment writer received {message}{Trace()}");
            var publication = new ModelHistory.Publication(_history.Next(), bound);
            _history.Publications.Add(publication);
            published.Add(publication);
            _trace.Add($"      published {Describe(bound)}");
        }
        var resets = new List<ModelHistory.ResetRequested>();
        while (_poller.TryReceiveOne(out var envelope, TimeSpan.Zero))
        {
            if (envelope.Message is not ResetChrony reset)
                throw new InvalidOperationException($"the chrony poller received {envelope.Message}{Trace()}");
            _trace.Add($"      ResetChrony({reset.Epoch})");
            if (_history.Resets.Any(r => r.Epoch == reset.Epoch))
                continue;
            var requested = new ModelHistory.ResetRequested(_history.Next(), reset.Epoch);
            _history.Resets.Add(requested);
            resets.Add(requested);
            _latestEpoch = Math.Max(_latestEpoch, reset.Epoch);
        }

        var violations = published.SelectMany(p => SafetyInvariants.ViolatedBy(_history, p).Select(v => $"{Describe(p.Bound)}: {v}"))
            .Concat(resets.Select(r => SafetyInvariants.NoResetWithoutSupport(_history, r)).OfType<string>())
            .ToList();
        if (violations.Count > 0)
            throw new InvariantViolatedException(string.Join(Environment.NewLine, violations) + Trace());
        Count(published);
    }

    private void Count(List<ModelHistory.Publication> published)
    {
        foreach (var p in published)
        {
            _coverage.Publications++;
            if (p.Bound.Status == ClockStatus.Disrupted)
                _coverage.Disrupted++;
            if (p.Bound.Status != ClockStatus.Synchronized)
                continue;
            if (_history.Completions.Any(c => _history.Resets.Any(r => r.Epoch == c.Epoch && r.Seq < c.Seq)))
                _coverage.SynchronizedAfterAReset++;
            if (_scenario.PhcConfigured && _history.Replies.LastOrDefault(r => r.AsOf == p.Bound.AsOf)?.Reply.ReferenceId == Tracking.PhcRefId)
                _coverage.SynchronizedOnThePhc++;
        }
    }

    private static string Describe(ClockErrorBound b) =>
        $"{b.Status} as_of {b.AsOf} bound {b.BoundNanoseconds} ns marker {b.DisruptionMarker}";

    private string Trace() =>
        Environment.NewLine + "Run (" + _scenario.ToString().Split(Environment.NewLine)[0] + "):" + Environment.NewLine
        + string.Join(Environment.NewLine, _trace);
}
