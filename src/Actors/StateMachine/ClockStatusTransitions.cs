using ClockBound.Io.Bound;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.StateMachine;

/// <summary>
/// The clock-status state machine of daemon-behaviour.md as pure functions: the next status from the current one and
/// the latest (chrony status, disruption state) pair. Each switch first rejects values outside the enums explicitly,
/// then lists every defined combination. There is no catch-all arm, so the compiler rejects a missing combination
/// (CS8509) or an unreachable one (CS8510).
/// </summary>
public static class ClockStatusTransitions
{
    /// <summary>The next status; <paramref name="disruption"/> is ignored when disruption support is disabled.</summary>
    public static ClockStatus Next(ClockStatus current, ChronyClockStatus chrony, DisruptionState disruption,
        bool disruptionSupportEnabled) =>
        disruptionSupportEnabled ? NextWithDisruptionSupport(current, chrony, disruption) : NextWithoutDisruptionSupport(current, chrony);

    /// <summary>The table of the spec (its columns are disjoint once read left to right, so the arm order does not matter).</summary>
    public static ClockStatus NextWithDisruptionSupport(ClockStatus current, ChronyClockStatus chrony, DisruptionState disruption) =>
        (current, chrony, disruption) switch
        {
            (not (ClockStatus.Unknown or ClockStatus.Synchronized or ClockStatus.FreeRunning or ClockStatus.Disrupted), _, _) =>
                throw Undefined(current),
            (_, not (ChronyClockStatus.Unknown or ChronyClockStatus.Synchronized or ChronyClockStatus.FreeRunning), _) =>
                throw Undefined(chrony),
            (_, _, not (DisruptionState.Unknown or DisruptionState.Reliable or DisruptionState.Disrupted)) =>
                throw Undefined(disruption),

            // (any, Disrupted) and (any, Unknown) decide alone, from every state.
            (_, _, DisruptionState.Disrupted) => ClockStatus.Disrupted,
            (_, _, DisruptionState.Unknown) => ClockStatus.Unknown,

            // From here on the disruption state is Reliable.
            (_, ChronyClockStatus.Unknown, DisruptionState.Reliable) => ClockStatus.Unknown,

            // Leaving Disrupted always goes through Unknown.
            (ClockStatus.Disrupted, ChronyClockStatus.Synchronized or ChronyClockStatus.FreeRunning, DisruptionState.Reliable) =>
                ClockStatus.Unknown,

            (ClockStatus.Unknown or ClockStatus.Synchronized or ClockStatus.FreeRunning, ChronyClockStatus.Synchronized,
                DisruptionState.Reliable) => ClockStatus.Synchronized,

            // FreeRunning is only reachable from Synchronized (or by staying in it): an unsynchronised start is Unknown.
            (ClockStatus.Unknown, ChronyClockStatus.FreeRunning, DisruptionState.Reliable) => ClockStatus.Unknown,
            (ClockStatus.Synchronized or ClockStatus.FreeRunning, ChronyClockStatus.FreeRunning, DisruptionState.Reliable) =>
                ClockStatus.FreeRunning,
        };

    /// <summary>Disruption support disabled: the disruption input is always Reliable and Disrupted is never entered.
    /// From Disrupted (only possible as a given current state) FreeRunning leads to Unknown, as in the table with support.</summary>
    public static ClockStatus NextWithoutDisruptionSupport(ClockStatus current, ChronyClockStatus chrony) =>
        (current, chrony) switch
        {
            (not (ClockStatus.Unknown or ClockStatus.Synchronized or ClockStatus.FreeRunning or ClockStatus.Disrupted), _) =>
                throw Undefined(current),
            (_, not (ChronyClockStatus.Unknown or ChronyClockStatus.Synchronized or ChronyClockStatus.FreeRunning)) =>
                throw Undefined(chrony),

            (_, ChronyClockStatus.Synchronized) => ClockStatus.Synchronized,
            (_, ChronyClockStatus.Unknown) => ClockStatus.Unknown,
            (ClockStatus.Synchronized or ClockStatus.FreeRunning, ChronyClockStatus.FreeRunning) => ClockStatus.FreeRunning,
            (ClockStatus.Unknown or ClockStatus.Disrupted, ChronyClockStatus.FreeRunning) => ClockStatus.Unknown,
        };

    private static ArgumentOutOfRangeException Undefined<T>(T value) where T : struct, Enum =>
        new(typeof(T).Name, value, $"{typeof(T).Name} {value} is not a defined value");
}
