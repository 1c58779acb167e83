using ClockBound.Io.Segment;

namespace ClockBound.Actors.StateMachine;

/// <summary>
/// What the daemon's previous run left in the segment, as found at start before anything was written: its last record,
/// or why there is none to trust (no segment, a repaired one, never written, torn). An input of the clock-status actor,
/// given to it at start; the actor never reads the segment itself.
/// </summary>
public sealed record PreviousRun
{
    private PreviousRun(ClockErrorBound? lastRecord, string description)
    {
        LastRecord = lastRecord;
        Description = description;
    }

    /// <summary>The previous run's last complete record; null when there is none to trust.</summary>
    public ClockErrorBound? LastRecord { get; }

    /// <summary>For the log: what was found.</summary>
    public string Description { get; }

    /// <summary>The previous run left <paramref name="record"/>, complete (even, non-zero generation).</summary>
    public static PreviousRun Left(ClockErrorBound record) =>
        new(record, $"previous record {record.Status} with marker {record.DisruptionMarker}, disruption support "
                    + (record.ClockDisruptionSupportEnabled ? "on" : "off"));

    /// <summary>Nothing usable was left: <paramref name="why"/> says what was found instead.</summary>
    public static PreviousRun Unusable(string why) => new(null, why);

    /// <summary>What the segment writer found when it opened the segment, before it wrote anything.</summary>
    public static PreviousRun From(PreviousSegment found) =>
        found.Record is { } record ? Left(record) : Unusable(found.Reason ?? found.State.ToString());
}

/// <summary>The verdict of <see cref="StartRule.Decide"/> for the first VMClock marker of a run.</summary>
/// <param name="Adopt">True: nothing can have happened while no daemon watched, the marker is the baseline. False: handle
/// the marker as a disruption (publish Disrupted, reset chronyd).</param>
/// <param name="Reason">For the log: why.</param>
public readonly record struct StartDecision(bool Adopt, string Reason);

/// <summary>
/// The warm-restart rule (README, "Clock status", "At start"): the first VMClock marker of a run is adopted without
/// resetting chronyd only when the previous run's last record proves that nothing happened while no daemon watched the
/// device. Anything else is a disruption that may have happened unseen, and adopting it would publish Synchronized on
/// chronyd's pre-disruption state: the one failure a ClockBound daemon exists to prevent.
/// </summary>
public static class StartRule
{
    public static StartDecision Decide(PreviousRun previous, ulong marker)
    {
        if (previous.LastRecord is not { } last)
            return new(false, $"no usable segment of a previous run ({previous.Description})");
        if (!last.ClockDisruptionSupportEnabled)
            return new(false, "the previous run did not watch the VMClock (disruption support off)");
        if (last.Status is not (ClockStatus.Unknown or ClockStatus.Synchronized or ClockStatus.FreeRunning))
            // Disrupted (or a status no daemon writes): its reset of chronyd may not have completed.
            return new(false, $"the previous run's last record says {last.Status}");
        if (last.DisruptionMarker != marker)
            return new(false, $"the marker changed from {last.DisruptionMarker} to {marker} while no daemon watched");
        return new(true, $"the previous run left marker {marker} with status {last.Status}: nothing happened meanwhile");
    }
}
