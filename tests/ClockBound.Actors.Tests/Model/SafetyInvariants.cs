using ClockBound.Actors.StateMachine;
using ClockBound.Actors.Tests.Scenarios;
using ClockBound.Io;
using ClockBound.Io.Bound;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.Tests.Model;

/// <summary>
/// What happened in one sequence, in order: the inputs delivered to the actor and what it published and asked. Every
/// entry carries a sequence number (<c>Seq</c>) from one counter, so "before" and "after" are exact even within one step.
/// This is the reference model: it keeps only what the invariants need and knows nothing of the actor's fields.
/// </summary>
public sealed class ModelHistory(ModelScenario scenario, ClockBoundSettings settings)
{
    public sealed record MarkerSeen(int Seq, ulong Marker);
    public sealed record SignalDelivered(int Seq, bool Sigusr1);
    public sealed record ResetRequested(int Seq, long Epoch);
    public sealed record ResetCompletion(int Seq, Timespec At, long Epoch);
    public sealed record ReplyDelivered(int Seq, Timespec AsOf, TrackingReply Reply);
    public sealed record PhcReadDelivered(int Seq, long Nanoseconds, Timespec ReadAt);
    public sealed record Publication(int Seq, ClockErrorBound Bound);

    private int _seq;
    private readonly List<int> _stepOfSeq = [0];

    public ModelScenario Scenario { get; } = scenario;
    public ClockBoundSettings Settings { get; } = settings;
    public bool Support => Scenario.DisruptionSupport;

    public List<MarkerSeen> Markers { get; } = [];
    public List<SignalDelivered> Signals { get; } = [];
    /// <summary>The first ResetChrony of each epoch (the actor repeats a request that may have been lost).</summary>
    public List<ResetRequested> Resets { get; } = [];
    public List<ResetCompletion> Completions { get; } = [];
    public List<ReplyDelivered> Replies { get; } = [];
    public List<PhcReadDelivered> PhcReads { get; } = [];
    public List<Publication> Publications { get; } = [];

    /// <summary>The step being applied (0: the start); for messages only.</summary>
    public int Step { get; set; }

    public int Next()
    {
        _stepOfSeq.Add(Step);
        return ++_seq;
    }

    /// <summary>The step in which entry <paramref name="seq"/> happened.</summary>
    public int StepOf(int seq) => _stepOfSeq[seq];
}

/// <summary>
/// The safety invariants of the clock-status actor (daemon-behaviour.md; README "Clock status"), as predicates over a
/// <see cref="ModelHistory"/>. Each returns null when it holds for the publication (or request) given, else what is wrong.
/// They are written from the spec, not from the actor: the state-machine table is restated here, and so is the bound.
/// </summary>
public static class SafetyInvariants
{
    /// <summary>Every violated invariant for publication <paramref name="p"/>, the latest entry of the history.</summary>
    public static IEnumerable<string> ViolatedBy(ModelHistory h, ModelHistory.Publication p)
    {
        var previous = h.Publications.LastOrDefault(q => q.Seq < p.Seq);
        string?[] verdicts =
        [
            RecordCarriesTheSettings(h, p),
            VoidAfterIsAsOfPlusVoidAfter(h, p),
            AsOfNeverMovesBackwards(previous, p),
            SampleChangesOnlyWithANewSynchronizedSample(h, previous, p),
            SynchronizedOrFreeRunningCarriesAGoodSample(h, p),
            NeverGoodWhileSigusr1IsInForce(h, p),
            SynchronizedOnlyOnAMarkerChronydWasResetFor(h, p),
            StatusReachableFromThePreviousOne(h, previous, p),
            NeverDisruptedWithoutSupport(h, p),
        ];
        return verdicts.OfType<string>();
    }

    /// <summary>With disruption support off, chronyd is never asked to reset.</summary>
    public static string? NoResetWithoutSupport(ModelHistory h, ModelHistory.ResetRequested r) =>
        h.Support ? null : $"ResetChrony({r.Epoch}) sent with disruption support off";

    private static string? RecordCarriesTheSettings(ModelHistory h, ModelHistory.Publication p) =>
        p.Bound.ClockDisruptionSupportEnabled == h.Support && p.Bound.MaxDriftPpb == h.Settings.MaxDriftPpb
            ? null
            : $"record says disruption support {p.Bound.ClockDisruptionSupportEnabled}, max drift {p.Bound.MaxDriftPpb} ppb";

    private static string? VoidAfterIsAsOfPlusVoidAfter(ModelHistory h, ModelHistory.Publication p) =>
        p.Bound.VoidAfter == p.Bound.AsOf.AddNanoseconds(h.Settings.VoidAfter.Ticks * 100)
            ? null
            : $"void_after {p.Bound.VoidAfter} is not as_of {p.Bound.AsOf} + {h.Settings.VoidAfter.TotalSeconds} s";

    private static string? AsOfNeverMovesBackwards(ModelHistory.Publication? previous, ModelHistory.Publication p) =>
        previous is null || p.Bound.AsOf >= previous.Bound.AsOf
            ? null
            : $"as_of moved backwards from {previous.Bound.AsOf} to {p.Bound.AsOf}";

    /// <summary>(as_of, bound) changes only for a Synchronized tracking reply delivered since the previous publication,
    /// whose request time is the new as_of and whose bound (with the PHC's, when it counts) the new bound covers. So the
    /// bound never shrinks without a new Synchronized sample.</summary>
    private static string? SampleChangesOnlyWithANewSynchronizedSample(ModelHistory h, ModelHistory.Publication? previous,
        ModelHistory.Publication p)
    {
        var (asOf, bound) = previous is null ? (default(Timespec), 0L) : (previous.Bound.AsOf, previous.Bound.BoundNanoseconds);
        if (p.Bound.AsOf == asOf && p.Bound.BoundNanoseconds == bound)
            return null;
        int since = previous?.Seq ?? 0;
        return h.Replies.Any(r => r.Seq > since && r.Seq < p.Seq && Justifies(h, r, p.Bound))
            ? null
            : $"sample changed from (as_of {asOf}, bound {bound} ns) to (as_of {p.Bound.AsOf}, bound {p.Bound.BoundNanoseconds} ns) "
              + "without a Synchronized tracking reply since the previous publication that covers it";
    }

    /// <summary>A published Synchronized or FreeRunning record carries a sample of some Synchronized reply (never the
    /// all-zero one), with a PHC term when that reply was referenced to the configured PHC.</summary>
    private static string? SynchronizedOrFreeRunningCarriesAGoodSample(ModelHistory h, ModelHistory.Publication p) =>
        p.Bound.Status is not (ClockStatus.Synchronized or ClockStatus.FreeRunning)
        || h.Replies.Any(r => r.Seq < p.Seq && Justifies(h, r, p.Bound))
            ? null
            : $"{p.Bound.Status} with (as_of {p.Bound.AsOf}, bound {p.Bound.BoundNanoseconds} ns), which no Synchronized "
              + "tracking reply (with a PHC bound young enough, when referenced to the PHC) accounts for";

    private static string? NeverGoodWhileSigusr1IsInForce(ModelHistory h, ModelHistory.Publication p) =>
        !h.Support || !ForcedAt(h, p.Seq) || p.Bound.Status is not (ClockStatus.Synchronized or ClockStatus.FreeRunning)
            ? null
            : $"{p.Bound.Status} while SIGUSR1 is in force";

    /// <summary>
    /// Synchronized with marker M only if chronyd was reset after the latest disruption that concerns M, and the published
    /// sample was requested after that reset completed. The disruptions are: M becoming the current marker, unless (a) M
    /// was adopted at start (the previous run left M intact: support on, not Disrupted, same marker; and every reading
    /// since showed M); and SIGUSR2 ending a forced disruption. "Reset after d" (b): a ResetChrony requested at or after
    /// d whose epoch's completion was delivered after the request, and a published as_of (the request time of a
    /// Synchronized reply) later than that completion.
    /// </summary>
    private static string? SynchronizedOnlyOnAMarkerChronydWasResetFor(ModelHistory h, ModelHistory.Publication p)
    {
        if (!h.Support || p.Bound.Status != ClockStatus.Synchronized)
            return null;
        ulong marker = p.Bound.DisruptionMarker;
        var markers = h.Markers.Where(m => m.Seq < p.Seq).ToList();

        bool adoptedAtStart = h.Scenario.Previous.ToPreviousRun().LastRecord is { } left
                              && left.ClockDisruptionSupportEnabled && left.Status != ClockStatus.Disrupted
                              && left.DisruptionMarker == marker
                              && markers.Count > 0 && markers.All(m => m.Marker == marker);
        int? disruptedAt = EffectiveSigusr2s(h, p.Seq).Cast<int?>().LastOrDefault();
        if (!adoptedAtStart)
        {
            int? becameCurrent = null;
            for (int i = 0; i < markers.Count; i++)
                if (markers[i].Marker == marker && (i == 0 || markers[i - 1].Marker != marker))
                    becameCurrent = markers[i].Seq;
            if (becameCurrent is not { } entered)
                return $"Synchronized with marker {marker}, which the VMClock never showed and was not adopted at start";
            disruptedAt = Math.Max(entered, disruptedAt ?? 0);
        }
        if (disruptedAt is not { } since)
            return null;

        bool resetSince = h.Resets.Any(r => r.Seq >= since && r.Seq < p.Seq
            && h.Completions.Any(c => c.Epoch == r.Epoch && c.Seq > r.Seq && c.Seq < p.Seq && p.Bound.AsOf > c.At));
        return resetSince
            ? null
            : $"Synchronized with marker {marker} (disrupted in step {h.StepOf(since)}) without a reset requested since then, "
              + "completed, and a sample requested after its completion";
    }

    /// <summary>Each published status follows from the previous one (Unknown before the first) by one transition of the
    /// spec's table, for some pair of inputs (staying is a transition too).</summary>
    private static string? StatusReachableFromThePreviousOne(ModelHistory h, ModelHistory.Publication? previous,
        ModelHistory.Publication p)
    {
        var from = previous?.Bound.Status ?? ClockStatus.Unknown;
        return SpecTable.Reachable(from, p.Bound.Status, h.Support)
            ? null
            : $"{from} -> {p.Bound.Status} is not a transition of the state machine (disruption support {(h.Support ? "on" : "off")})";
    }

    private static string? NeverDisruptedWithoutSupport(ModelHistory h, ModelHistory.Publication p) =>
        h.Support || p.Bound.Status != ClockStatus.Disrupted ? null : "Disrupted with disruption support off";

    // ------------------------------------------------------------------ the reference model's reading of the inputs

    /// <summary>SIGUSR1 received and not cancelled by SIGUSR2 before <paramref name="seq"/>: the last signal decides.</summary>
    private static bool ForcedAt(ModelHistory h, int seq) => h.Signals.LastOrDefault(s => s.Seq < seq)?.Sigusr1 ?? false;

    /// <summary>The SIGUSR2s before <paramref name="seq"/> that ended a forced disruption.</summary>
    private static List<int> EffectiveSigusr2s(ModelHistory h, int seq)
    {
        var ends = new List<int>();
        bool forced = false;
        foreach (var s in h.Signals.Where(s => s.Seq < seq))
        {
            if (!s.Sigusr1 && forced)
                ends.Add(s.Seq);
            forced = s.Sigusr1;
        }
        return ends;
    }

    /// <summary>Reply <paramref name="r"/> said Synchronized and accounts for the published (as_of, bound): same request
    /// time, a bound at least the spec's, plus a PHC bound read no longer than PhcMaxAge before the request when the
    /// reply is referenced to the configured PHC.</summary>
    private static bool Justifies(ModelHistory h, ModelHistory.ReplyDelivered r, ClockErrorBound published)
    {
        if (r.AsOf != published.AsOf || !SaysSynchronized(r.Reply, h.Settings.StaleFactor))
            return false;
        long chrony = SpecBoundNanoseconds(r.Reply);
        if (h.Settings.PhcReferenceId is not { } phc || r.Reply.ReferenceId != phc)
            return published.BoundNanoseconds >= chrony;
        long maxAge = h.Settings.PhcMaxAge.Ticks * 100;
        return h.PhcReads.Any(read => read.Seq < r.Seq && read.Nanoseconds >= 0
                                      && r.AsOf.NanosecondsSince(read.ReadAt) <= maxAge
                                      && published.BoundNanoseconds >= chrony + read.Nanoseconds);
    }

    /// <summary>Leap status 0..2, a valid reply, and a reference time not older than stale factor × update interval.</summary>
    private static bool SaysSynchronized(TrackingReply t, double staleFactor)
    {
        bool valid = double.IsFinite(t.RootDelay) && t.RootDelay >= 0 && double.IsFinite(t.RootDispersion) && t.RootDispersion >= 0
                     && double.IsFinite(t.CurrentCorrection) && double.IsFinite(t.LastUpdateInterval) && t.LastUpdateInterval >= 0
                     && t.ReferenceTime <= Tracking.Realtime;
        return valid && t.LeapStatus is LeapStatus.Normal or LeapStatus.InsertSecond or LeapStatus.DeleteSecond
                     && Tracking.Realtime.NanosecondsSince(t.ReferenceTime) <= staleFactor * t.LastUpdateInterval * 1e9;
    }

    /// <summary>ceil((root delay / 2 + root dispersion + |current correction|) × 1e9).</summary>
    private static long SpecBoundNanoseconds(TrackingReply t) =>
        (long)Math.Ceiling((t.RootDelay / 2 + t.RootDispersion + Math.Abs(t.CurrentCorrection)) * 1e9);
}

/// <summary>The state machine of daemon-behaviour.md, restated from its table (columns checked left to right).</summary>
public static class SpecTable
{
    private static readonly ChronyClockStatus[] ChronyInputs =
        [ChronyClockStatus.Unknown, ChronyClockStatus.Synchronized, ChronyClockStatus.FreeRunning];

    private static readonly DisruptionState[] DisruptionInputs =
        [DisruptionState.Unknown, DisruptionState.Reliable, DisruptionState.Disrupted];

    public static ClockStatus Next(ClockStatus from, ChronyClockStatus chrony, DisruptionState disruption)
    {
        if (chrony == ChronyClockStatus.Synchronized && disruption == DisruptionState.Reliable)
            return from == ClockStatus.Disrupted ? ClockStatus.Unknown : ClockStatus.Synchronized;
        if (chrony == ChronyClockStatus.FreeRunning && disruption == DisruptionState.Reliable)
            return from is ClockStatus.Synchronized or ClockStatus.FreeRunning ? ClockStatus.FreeRunning : ClockStatus.Unknown;
        if (disruption == DisruptionState.Disrupted)
            return ClockStatus.Disrupted;
        return ClockStatus.Unknown; // (Unknown, not Disrupted) and (any, Unknown)
    }

    /// <summary>Without disruption support the disruption input is always Reliable.</summary>
    public static bool Reachable(ClockStatus from, ClockStatus to, bool disruptionSupport) =>
        ChronyInputs.Any(c => (disruptionSupport ? DisruptionInputs : [DisruptionState.Reliable]).Any(d => Next(from, c, d) == to));
}
