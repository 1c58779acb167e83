using ClockBound.Actors.StateMachine;
using ClockBound.Io.Bound;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.Tests.StateMachine;

/// <summary>Every (state, chrony, disruption) combination, each expected value copied from the table in
/// daemon-behaviour.md ("Clock status state machine").</summary>
public sealed class ClockStatusTransitionsSpecs
{
    private const ClockStatus U = ClockStatus.Unknown;
    private const ClockStatus S = ClockStatus.Synchronized;
    private const ClockStatus F = ClockStatus.FreeRunning;
    private const ClockStatus D = ClockStatus.Disrupted;
    private const ChronyClockStatus CU = ChronyClockStatus.Unknown;
    private const ChronyClockStatus CS = ChronyClockStatus.Synchronized;
    private const ChronyClockStatus CF = ChronyClockStatus.FreeRunning;
    private const DisruptionState DU = DisruptionState.Unknown;
    private const DisruptionState DR = DisruptionState.Reliable;
    private const DisruptionState DD = DisruptionState.Disrupted;

    public static TheoryData<ClockStatus, ChronyClockStatus, DisruptionState, ClockStatus> WithDisruptionSupport => new()
    {
        // from Unknown
        { U, CS, DR, S }, { U, CF, DR, U }, { U, CU, DR, U },
        { U, CS, DD, D }, { U, CF, DD, D }, { U, CU, DD, D },
        { U, CS, DU, U }, { U, CF, DU, U }, { U, CU, DU, U },
        // from Synchronized
        { S, CS, DR, S }, { S, CF, DR, F }, { S, CU, DR, U },
        { S, CS, DD, D }, { S, CF, DD, D }, { S, CU, DD, D },
        { S, CS, DU, U }, { S, CF, DU, U }, { S, CU, DU, U },
        // from FreeRunning
        { F, CS, DR, S }, { F, CF, DR, F }, { F, CU, DR, U },
        { F, CS, DD, D }, { F, CF, DD, D }, { F, CU, DD, D },
        { F, CS, DU, U }, { F, CF, DU, U }, { F, CU, DU, U },
        // from Disrupted
        { D, CS, DR, U }, { D, CF, DR, U }, { D, CU, DR, U },
        { D, CS, DD, D }, { D, CF, DD, D }, { D, CU, DD, D },
        { D, CS, DU, U }, { D, CF, DU, U }, { D, CU, DU, U },
    };

    public static TheoryData<ClockStatus, ChronyClockStatus, ClockStatus> WithoutDisruptionSupport => new()
    {
        { U, CS, S }, { U, CF, U }, { U, CU, U },
        { S, CS, S }, { S, CF, F }, { S, CU, U },
        { F, CS, S }, { F, CF, F }, { F, CU, U },
        // Disrupted is never entered without support; should it be the current state, it is left like Unknown.
        { D, CS, S }, { D, CF, U }, { D, CU, U },
    };

    [Theory]
    [MemberData(nameof(WithDisruptionSupport))]
    public void With_disruption_support_the_next_status_must_follow_the_spec_table(
        ClockStatus current, ChronyClockStatus chrony, DisruptionState disruption, ClockStatus expected)
    {
        Assert.Equal(expected, ClockStatusTransitions.NextWithDisruptionSupport(current, chrony, disruption));
        Assert.Equal(expected, ClockStatusTransitions.Next(current, chrony, disruption, disruptionSupportEnabled: true));
    }

    [Theory]
    [MemberData(nameof(WithoutDisruptionSupport))]
    public void Without_disruption_support_the_next_status_must_ignore_the_disruption_input(
        ClockStatus current, ChronyClockStatus chrony, ClockStatus expected)
    {
        Assert.Equal(expected, ClockStatusTransitions.NextWithoutDisruptionSupport(current, chrony));
        foreach (var disruption in Enum.GetValues<DisruptionState>())
            Assert.Equal(expected, ClockStatusTransitions.Next(current, chrony, disruption, disruptionSupportEnabled: false));
    }

    [Fact]
    public void The_tables_must_cover_every_input_combination_once()
    {
        Assert.Equal(4 * 3 * 3, WithDisruptionSupport.Count());
        Assert.Equal(4 * 3 * 3, DistinctInputs(WithDisruptionSupport, inputs: 3));
        Assert.Equal(4 * 3, WithoutDisruptionSupport.Count());
        Assert.Equal(4 * 3, DistinctInputs(WithoutDisruptionSupport, inputs: 2));
    }

    private static int DistinctInputs(IEnumerable<object[]> rows, int inputs) =>
        rows.Select(row => string.Join(",", row.Take(inputs))).Distinct().Count();

    [Fact]
    public void Without_disruption_support_Disrupted_must_never_be_reached()
    {
        foreach (var current in Enum.GetValues<ClockStatus>())
        foreach (var chrony in Enum.GetValues<ChronyClockStatus>())
            Assert.NotEqual(ClockStatus.Disrupted, ClockStatusTransitions.NextWithoutDisruptionSupport(current, chrony));
    }

    [Fact]
    public void Undefined_enum_values_must_be_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClockStatusTransitions.Next((ClockStatus)42, CS, DD, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClockStatusTransitions.Next(S, (ChronyClockStatus)42, DD, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClockStatusTransitions.Next(S, CS, (DisruptionState)42, true));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClockStatusTransitions.Next((ClockStatus)42, CS, DR, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClockStatusTransitions.Next(S, (ChronyClockStatus)42, DR, false));
    }
}
