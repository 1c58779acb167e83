using ClockBound.Actors.StateMachine;
using ClockBound.Actors.Tests.Scenarios;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.Tests.Model;

/// <summary>
/// One input of a generated sequence for the clock-status actor. Steps that refer to the world's state (which marker,
/// which reset epoch, which request) say so relatively ("the current marker", "the latest reset"); the run resolves them
/// against what has happened so far and writes the concrete values into its trace.
/// </summary>
public abstract record ModelStep
{
    /// <summary>The poller sends a tracking request now; its reply comes with a later <see cref="Tracked"/> that answers the
    /// oldest request in flight (the poller's replies come in the order of their requests).</summary>
    public sealed record PollSent : ModelStep
    {
        public override string ToString() => "poll sent (reply later)";
    }

    /// <summary>A tracking reply: to a request sent now (every older request in flight is then lost) or to the oldest
    /// request in flight.</summary>
    public sealed record Tracked(bool ToOldestInFlight, LeapStatus Leap, ReferenceAge Reference, bool ReferencedToPhc,
        double RootDelay, double RootDispersion, double CurrentCorrection) : ModelStep
    {
        public override string ToString() =>
            $"tracking {(ToOldestInFlight ? "reply to the oldest request in flight" : "requested now")}: leap {(ushort)Leap} ({Leap}), "
            + $"reference {Reference}, {(ReferencedToPhc ? "PHC0" : "NTP")}, delay {RootDelay}, dispersion {RootDispersion}, "
            + $"correction {CurrentCorrection}";
    }

    /// <summary>The poll in flight (if any) timed out: ChronyPollFailed at now.</summary>
    public sealed record PollFailed : ModelStep
    {
        public override string ToString() => "chrony poll failed";
    }

    /// <summary>The monotonic clock and the scheduler both advance: the actor's timers fire.</summary>
    public sealed record TimePasses(int Milliseconds) : ModelStep
    {
        public override string ToString() => $"{Milliseconds} ms pass";
    }

    public sealed record VmClock(MarkerChoice Marker) : ModelStep
    {
        public override string ToString() => $"VMClock marker: {Marker}";
    }

    public sealed record VmClockGone : ModelStep
    {
        public override string ToString() => "VMClock unavailable";
    }

    public sealed record ResetCompleted(EpochChoice Epoch) : ModelStep
    {
        public override string ToString() => $"chronyd reset completed: {Epoch} epoch";
    }

    public sealed record Signal(bool Sigusr1) : ModelStep
    {
        public override string ToString() => Sigusr1 ? "SIGUSR1" : "SIGUSR2";
    }

    /// <summary>A PHC bound read that started <paramref name="AgeMilliseconds"/> before now.</summary>
    public sealed record PhcRead(long Nanoseconds, int AgeMilliseconds) : ModelStep
    {
        public override string ToString() => $"PHC bound {Nanoseconds} ns read {AgeMilliseconds} ms ago";
    }

    public sealed record PhcFailed : ModelStep
    {
        public override string ToString() => "PHC read failed";
    }

    /// <summary>The actor throws (InjectFault) and is restarted by its supervisor.</summary>
    public sealed record Restart : ModelStep
    {
        public override string ToString() => "clock-status actor crashes and restarts";
    }
}

/// <summary>How old chronyd's reference time is when the reply arrives.</summary>
public enum ReferenceAge
{
    /// <summary>1 s old, 2 s update interval: fresh.</summary>
    Fresh,
    /// <summary>100 s old, 2 s update interval: older than 8 intervals.</summary>
    Stale,
    /// <summary>1 s old, 0 s update interval (just after chronyd's first synchronisation): stale at once.</summary>
    ZeroInterval,
    /// <summary>1 s in the future: an invalid reply.</summary>
    Future,
}

/// <summary>Which VMClock marker the device shows.</summary>
public enum MarkerChoice
{
    /// <summary>The last one it showed (the previous run's marker before the first reading).</summary>
    Current,
    /// <summary>One never shown before.</summary>
    New,
    /// <summary>An earlier one, different from the current one.</summary>
    Old,
}

/// <summary>Which reset a completion answers.</summary>
public enum EpochChoice
{
    /// <summary>The latest ResetChrony the poller received.</summary>
    Latest,
    /// <summary>The one before it.</summary>
    Older,
    /// <summary>One not asked for (yet).</summary>
    Unknown,
}

/// <summary>What the previous run left in the segment: nothing usable, or a record.</summary>
public sealed record PreviousRunChoice(bool Usable, ClockStatus Status, ulong Marker, bool DisruptionSupport)
{
    public PreviousRun ToPreviousRun() => Usable
        ? PreviousRun.Left(new ClockErrorBound(new Io.Timespec(4_000, 0), new Io.Timespec(5_000, 0), Tracking.BoundNanoseconds,
            Marker, MaxDriftPpb: 1_000, Status, DisruptionSupport))
        : PreviousRun.Unusable("model: no segment");

    public override string ToString() => Usable
        ? $"previous run left {Status} with marker {Marker}, disruption support {(DisruptionSupport ? "on" : "off")}"
        : "previous run left nothing usable";
}

/// <summary>One generated sequence: settings, what the previous run left, and the inputs.</summary>
public sealed record ModelScenario(bool DisruptionSupport, bool PhcConfigured, PreviousRunChoice Previous, ModelStep[] Steps)
{
    public ClockBoundSettings Settings => new()
    {
        ClockDisruptionSupportEnabled = DisruptionSupport,
        PhcReferenceId = PhcConfigured ? Tracking.PhcRefId : null,
        PhcInterface = PhcConfigured ? "eth0" : null,
    };

    public override string ToString() =>
        $"disruption support {(DisruptionSupport ? "on" : "off")}, PHC {(PhcConfigured ? "configured (PHC0)" : "not configured")}, "
        + $"{Previous}; {Steps.Length} steps:" + Environment.NewLine
        + string.Join(Environment.NewLine, Steps.Select((s, i) => $"  {i + 1,2}. {s}"));
}
