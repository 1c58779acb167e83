using Akka.Actor;
using ClockBound.Actors.StateMachine;
using ClockBound.Io;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>
/// README, "Clock status", "At start": the first VMClock marker of a run against what the previous run left in the
/// segment. Adopted (no reset, no flash of Unknown) only when nothing can have happened while no daemon watched.
/// </summary>
public sealed class StartScenarios(ITestOutputHelper output) : ClockStatusActorSpec(output)
{
    private static ClockErrorBound PreviousRecord(ClockStatus status, ulong marker = PreviousMarker, bool support = true) =>
        GoodRecord(new Timespec(4_000, 0), Tracking.BoundNanoseconds, marker, status) with { ClockDisruptionSupportEnabled = support };

    /// <summary>Every previous run that proves nothing happened to marker <see cref="ClockStatusActorSpec.PreviousMarker"/>.</summary>
    public static TheoryData<string, PreviousRun> Adopting => new()
    {
        { "Synchronized", PreviousRun.Left(PreviousRecord(ClockStatus.Synchronized)) },
        { "FreeRunning", PreviousRun.Left(PreviousRecord(ClockStatus.FreeRunning)) },
        { "Unknown", PreviousRun.Left(PreviousRecord(ClockStatus.Unknown)) },
    };

    /// <summary>Every previous run after which a disruption may have happened unseen.</summary>
    public static TheoryData<string, PreviousRun> Disrupting => new()
    {
        { "another marker", PreviousRun.Left(PreviousRecord(ClockStatus.Synchronized, marker: PreviousMarker - 1)) },
        { "Disrupted (a reset outstanding, or SIGUSR1)", PreviousRun.Left(PreviousRecord(ClockStatus.Disrupted)) },
        { "disruption support off", PreviousRun.Left(PreviousRecord(ClockStatus.Synchronized, support: false)) },
        { "a status no daemon writes", PreviousRun.Left(PreviousRecord((ClockStatus)9)) },
        { "no segment", PreviousRun.Unusable("no segment") },
        { "a repaired segment", PreviousRun.Unusable("replaced: bad magic") },
        { "never written", PreviousRun.Unusable("never written") },
        { "torn", PreviousRun.Unusable("torn: odd generation 5") },
    };

    [Theory]
    [MemberData(nameof(Adopting))]
    public void A_marker_the_previous_run_left_intact_must_be_adopted_and_published_Synchronized_without_a_reset(
        string _, PreviousRun previous)
    {
        var actor = StartClockStatus(previous: previous);

        actor.Tell(new VmClockObserved(PreviousMarker));
        actor.Tell(Tracked());

        Assert.Equal(GoodRecord(Clock.Now(), Tracking.BoundNanoseconds, PreviousMarker, ClockStatus.Synchronized),
            ExpectPublished(ClockStatus.Synchronized));
        Poller.ExpectNoMsg(Quiet);
    }

    [Theory]
    [MemberData(nameof(Disrupting))]
    public void Any_other_start_must_publish_Disrupted_with_the_current_marker_reset_chronyd_and_recover_only_on_tracking_after_it(
        string _, PreviousRun previous)
    {
        var peers = CreateTestProbe("peers");
        var actor = StartClockStatus(writer: peers, poller: peers, previous: previous);
        // chronyd's tracking of before the disruption, requested before the reset: it must never be published as good.
        var preReset = Tracked();

        actor.Tell(new VmClockObserved(PreviousMarker));
        var disrupted = ExpectPublished(ClockStatus.Disrupted, peers);
        Assert.Equal(PreviousMarker, disrupted.DisruptionMarker);
        var reset = peers.ExpectMsg<ResetChrony>();

        actor.Tell(preReset);
        ExpectPublished(ClockStatus.Disrupted, peers);
        actor.Tell(new VmClockObserved(PreviousMarker));
        Clock.Advance(TimeSpan.FromMilliseconds(5));
        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        ExpectPublished(ClockStatus.Unknown, peers);
        actor.Tell(preReset);
        actor.Tell(new VmClockObserved(PreviousMarker));
        peers.ExpectNoMsg(Quiet);

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        Assert.Equal(GoodRecord(Clock.Now(), Tracking.BoundNanoseconds, PreviousMarker, ClockStatus.Synchronized),
            ExpectPublished(ClockStatus.Synchronized, peers));
    }

    [Fact]
    public void A_VMClock_unreadable_at_start_must_defer_the_rule_to_the_first_marker_read()
    {
        var actor = StartClockStatus(previous: PreviousRun.Left(PreviousRecord(ClockStatus.Synchronized, marker: 3)));

        actor.Tell(new VmClockUnavailable("seq_count kept changing"));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Unknown);
        Poller.ExpectNoMsg(Quiet);

        actor.Tell(new VmClockObserved(4));
        Assert.Equal(4UL, ExpectPublished(ClockStatus.Disrupted).DisruptionMarker);
        Poller.ExpectMsg<ResetChrony>();
    }

    [Fact]
    public void A_warm_restart_must_not_publish_before_both_inputs_so_clients_see_no_flash_of_Unknown()
    {
        var actor = StartClockStatus(previous: PreviousRun.Left(PreviousRecord(ClockStatus.Synchronized)));

        actor.Tell(Tracked(Tracking.Reply(LeapStatus.Unsynchronised)));
        Writer.ExpectNoMsg(Quiet);
        actor.Tell(Tracked());
        Writer.ExpectNoMsg(Quiet);

        actor.Tell(new VmClockObserved(PreviousMarker));
        ExpectPublished(ClockStatus.Synchronized);
    }
}
