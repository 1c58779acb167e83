using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;
using CsCheck;

namespace ClockBound.Actors.Tests.Model;

/// <summary>CsCheck generators of <see cref="ModelScenario"/>s. Weights favour the inputs of a running daemon (tracking
/// replies, time, the same marker) so that sequences get through a disruption and back to Synchronized, where the
/// invariants have something to check.</summary>
public static class ModelGenerators
{
    /// <summary>Leap status 0..3 only: <see cref="TrackingReply.ReadFrom"/> rejects anything above 3, so the actor never
    /// receives it.</summary>
    private static readonly Gen<LeapStatus> Leap = Gen.Frequency(
        (4, LeapStatus.Normal), (1, LeapStatus.InsertSecond), (1, LeapStatus.DeleteSecond), (2, LeapStatus.Unsynchronised));

    private static readonly Gen<ReferenceAge> Reference = Gen.Frequency(
        (6, ReferenceAge.Fresh), (1, ReferenceAge.Stale), (1, ReferenceAge.ZeroInterval), (1, ReferenceAge.Future));

    /// <summary>Seconds; mostly valid (zero, the scenarios' 2^-9, large, chronyd's 1 s after a restart), rarely invalid.</summary>
    private static readonly Gen<double> RootDelay = Gen.Frequency(
        (8, Gen.OneOf(0.0, 1.0 / 512, 0.25, 1.0)), (1, Gen.OneOf(-1.0 / 512, double.NaN)));

    private static readonly Gen<double> RootDispersion = Gen.OneOf(0.0, 1.0 / 2048, 0.001, 1.0);

    private static readonly Gen<double> CurrentCorrection = Gen.OneOf(0.0, -1.0 / 8192, 0.002, -0.5);

    private static readonly Gen<ModelStep> Tracked =
        Gen.Select(Gen.Frequency((3, false), (1, true)), Leap, Reference, Gen.Bool, RootDelay, RootDispersion, CurrentCorrection,
            (oldest, leap, reference, phc, delay, dispersion, correction) =>
                (ModelStep)new ModelStep.Tracked(oldest, leap, reference, phc, delay, dispersion, correction));

    /// <summary>1 ms .. 20 s, mostly short: the silence watchdog (1.2 s), the first-publish deadline (1.1 s), the restart
    /// grace (5 s), the PHC age limit (3 s) and the reset resend timer (30.3 s) all get crossed.</summary>
    private static readonly Gen<ModelStep> TimePasses =
        Gen.Frequency((4, Gen.Int[1, 50]), (3, Gen.Int[51, 2_000]), (1, Gen.Int[2_001, 20_000]))
            .Select(ms => (ModelStep)new ModelStep.TimePasses(ms));

    private static readonly Gen<ModelStep> VmClock =
        Gen.Frequency((8, MarkerChoice.Current), (1, MarkerChoice.New), (1, MarkerChoice.Old))
            .Select(m => (ModelStep)new ModelStep.VmClock(m));

    private static readonly Gen<ModelStep> ResetCompleted =
        Gen.Frequency((4, EpochChoice.Latest), (1, EpochChoice.Older), (1, EpochChoice.Unknown))
            .Select(e => (ModelStep)new ModelStep.ResetCompleted(e));

    /// <summary>Ages around the PHC age limit of 3 s (3 read intervals), and a negative bound that the reader should
    /// never pass on.</summary>
    private static readonly Gen<ModelStep> PhcRead =
        Gen.Select(Gen.Frequency((8, Gen.OneOf(0L, 1_000L, 25_000L, 1_000_000L)), (1, Gen.Const(-5L))),
                Gen.OneOf(0, 500, 2_999, 3_000, 3_001, 10_000))
            .Select((ns, age) => (ModelStep)new ModelStep.PhcRead(ns, age));

    public static readonly Gen<ModelStep> Step = Gen.Frequency(
        (8, Tracked),
        (2, Gen.Const<ModelStep>(new ModelStep.PollSent())),
        (2, Gen.Const<ModelStep>(new ModelStep.PollFailed())),
        (6, TimePasses),
        (6, VmClock),
        (1, Gen.Const<ModelStep>(new ModelStep.VmClockGone())),
        (3, ResetCompleted),
        (2, Gen.Bool.Select(on => (ModelStep)new ModelStep.Signal(on))),
        (3, PhcRead),
        (1, Gen.Const<ModelStep>(new ModelStep.PhcFailed())),
        (1, Gen.Const<ModelStep>(new ModelStep.Restart())));

    /// <summary>The previous run's marker is mostly the one <see cref="MarkerChoice.Current"/> starts with, so that
    /// warm restarts (adoption) happen often.</summary>
    private static readonly Gen<PreviousRunChoice> Previous =
        Gen.Select(Gen.Frequency((1, false), (4, true)), Gen.Enum<ClockStatus>(),
                Gen.Frequency((3, SequenceRun.FirstMarker), (1, SequenceRun.FirstMarker + 1)), Gen.Frequency((3, true), (1, false)))
            .Select((usable, status, marker, support) => new PreviousRunChoice(usable, status, marker, support));

    /// <summary>1..60 steps (the brief's length: long enough for a disruption, its reset and a recovery, twice).</summary>
    public static readonly Gen<ModelScenario> Scenario =
        Gen.Select(Gen.Frequency((3, true), (1, false)), Gen.Bool, Previous, Step.Array[1, 60])
            .Select((support, phc, previous, steps) => new ModelScenario(support, phc, previous, steps));
}
