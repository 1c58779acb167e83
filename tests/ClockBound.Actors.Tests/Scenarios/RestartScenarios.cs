using Akka.Actor;
using ClockBound.Io.Segment;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>
/// A clock-status actor restarted by its supervisor after an exception must not be less safe than the one that died: it
/// keeps the SIGUSR1 switch, the marker, the reset epoch and the last good sample, and handles the restart as a disruption.
/// </summary>
public sealed class RestartScenarios(ITestOutputHelper output) : ClockStatusActorSpec(output)
{
    private void Crash(IActorRef actor) =>
        EventFilter.Exception<InjectedFaultException>().ExpectOne(() => actor.Tell(new InjectFault("test")));

    [Fact]
    public void A_restart_during_a_reset_must_keep_Disrupted_until_a_new_reset_completes_and_tracking_after_it()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);
        var before = Poller.ExpectMsg<ResetChrony>();
        var preReset = Tracked();

        Crash(actor);

        Assert.Equal(8UL, ExpectPublished(ClockStatus.Disrupted).DisruptionMarker);
        var after = Poller.ExpectMsg<ResetChrony>();
        Assert.True(after.Epoch > before.Epoch, $"reset {after.Epoch} after the restart must be newer than {before.Epoch}");

        // chronyd's pre-disruption tracking and the old reset's completion must not end the disruption.
        actor.Tell(preReset);
        ExpectPublished(ClockStatus.Disrupted);
        actor.Tell(new ChronyResetCompleted(before.Epoch));
        actor.Tell(new VmClockObserved(8));
        Writer.ExpectNoMsg(Quiet);

        Clock.Advance(TimeSpan.FromMilliseconds(5));
        actor.Tell(new ChronyResetCompleted(after.Epoch));
        ExpectPublished(ClockStatus.Unknown);
        actor.Tell(preReset);
        actor.Tell(new VmClockObserved(8));
        Writer.ExpectNoMsg(Quiet);
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        Assert.Equal(8UL, ExpectPublished(ClockStatus.Synchronized).DisruptionMarker);
    }

    [Fact]
    public void A_restart_while_SIGUSR1_is_in_force_must_keep_it_in_force_until_SIGUSR2()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new ForcedDisruption(true));
        ExpectPublished(ClockStatus.Disrupted);

        Crash(actor);
        ExpectPublished(ClockStatus.Disrupted);
        var reset = Poller.ExpectMsg<ResetChrony>();

        // Everything says "good", but SIGUSR1 is still in force.
        Clock.Advance(TimeSpan.FromMilliseconds(5));
        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        actor.Tell(new VmClockObserved(7));
        var whileForced = Writer.ReceiveWhile(Quiet, m => (PublishBound)m);
        Assert.All(whileForced, p => Assert.Equal(ClockStatus.Disrupted, p.Bound.Status));
        EventFilter.Info(contains: "already on").ExpectOne(() => actor.Tell(new ForcedDisruption(true)));

        actor.Tell(new ForcedDisruption(false));
        ExpectPublished(ClockStatus.Disrupted);
        var afterSigusr2 = Poller.ExpectMsg<ResetChrony>();
        Clock.Advance(TimeSpan.FromMilliseconds(5));
        actor.Tell(new ChronyResetCompleted(afterSigusr2.Epoch));
        ExpectPublished(ClockStatus.Unknown);
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked()); // marker 7 was read after the restart's disruption and has not moved
        ExpectPublished(ClockStatus.Synchronized);
    }

    [Fact]
    public void A_restart_while_Synchronized_must_keep_the_published_sample_and_reset_chronyd()
    {
        var actor = StartSynchronized(marker: 7);
        var good = GoodRecord(Clock.Now(), Tracking.BoundNanoseconds, 7, ClockStatus.Disrupted);
        Clock.Advance(TimeSpan.FromSeconds(2));

        Crash(actor);

        // as_of never moves backwards and the bound is the last good one: clients' view only degrades.
        Assert.Equal(good, ExpectPublished(ClockStatus.Disrupted));
        Poller.ExpectMsg<ResetChrony>();
    }

    [Fact]
    public void A_restart_before_any_VMClock_reading_must_treat_the_first_marker_as_a_disruption()
    {
        var actor = StartClockStatus();
        actor.Tell(Tracked());

        Crash(actor);
        Assert.Equal(0UL, ExpectPublished(ClockStatus.Disrupted).DisruptionMarker);
        var first = Poller.ExpectMsg<ResetChrony>();

        // The marker the previous run left would have been adopted at start, but not by a restarted instance.
        actor.Tell(new VmClockObserved(PreviousMarker));
        Assert.Equal(PreviousMarker, ExpectPublished(ClockStatus.Disrupted).DisruptionMarker);
        Assert.True(Poller.ExpectMsg<ResetChrony>().Epoch > first.Epoch);
    }

    [Fact]
    public void A_restart_without_disruption_support_must_not_reset_chronyd_and_recover_on_the_next_sample()
    {
        var settings = new ClockBoundSettings { ClockDisruptionSupportEnabled = false };
        var actor = StartClockStatus(settings);
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Synchronized);

        Crash(actor);
        Writer.ExpectNoMsg(Quiet);
        Poller.ExpectNoMsg(Quiet);

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        Assert.Equal(Clock.Now(), ExpectPublished(ClockStatus.Synchronized).AsOf);
    }
}
