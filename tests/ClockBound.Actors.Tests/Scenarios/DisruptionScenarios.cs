using Akka.Actor;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>daemon-behaviour.md, "Disruption handling": the VMClock marker, SIGUSR1/SIGUSR2, and support disabled.</summary>
public sealed class DisruptionScenarios(ITestOutputHelper output) : ClockStatusActorSpec(output)
{
    [Fact]
    public void A_new_marker_must_publish_Disrupted_before_chronyd_is_reset_then_recover_through_Unknown()
    {
        // One probe in both roles: the order of its messages is the order the actor sent them.
        var peers = CreateTestProbe("peers");
        var actor = StartSynchronized(marker: 7, writer: peers, poller: peers);

        actor.Tell(new VmClockObserved(8));
        var disrupted = peers.ExpectMsg<PublishBound>().Bound;
        Assert.Equal((ClockStatus.Disrupted, 8UL), (disrupted.Status, disrupted.DisruptionMarker));
        var reset = peers.ExpectMsg<ResetChrony>();

        // Until the reset completes, good chrony data and a stable marker do not end the disruption.
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Disrupted, peers);
        actor.Tell(new VmClockObserved(8));
        peers.ExpectNoMsg(Quiet);

        // The marker was read again (unchanged) during the reset: once it completes, only chronyd is waited for.
        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        Assert.Equal(8UL, ExpectPublished(ClockStatus.Unknown, peers).DisruptionMarker);

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        var recovered = ExpectPublished(ClockStatus.Synchronized, peers);
        Assert.Equal(GoodRecord(Clock.Now(), Tracking.BoundNanoseconds, 8, ClockStatus.Synchronized), recovered);
        peers.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Without_a_reading_of_the_new_marker_after_it_changed_the_reset_must_leave_Unknown_until_the_next_one()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);
        var reset = Poller.ExpectMsg<ResetChrony>();

        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        ExpectPublished(ClockStatus.Unknown);
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Unknown);

        actor.Tell(new VmClockObserved(8));
        Assert.Equal(8UL, ExpectPublished(ClockStatus.Synchronized).DisruptionMarker);
    }

    [Fact]
    public void An_unreadable_VMClock_after_the_confirming_reading_must_withdraw_the_confirmation()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);
        var reset = Poller.ExpectMsg<ResetChrony>();
        actor.Tell(new VmClockObserved(8));
        actor.Tell(new VmClockUnavailable("seq_count kept changing"));

        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        ExpectPublished(ClockStatus.Unknown);
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Unknown);
    }

    [Fact]
    public void After_the_reset_only_tracking_requested_after_it_may_end_the_disruption()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);
        var reset = Poller.ExpectMsg<ResetChrony>();

        // A poll sent before the reset completed answers after it, still "Synchronized" from before the disruption.
        var staleReply = Tracked();
        Clock.Advance(TimeSpan.FromMilliseconds(3));
        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        ExpectPublished(ClockStatus.Unknown);
        actor.Tell(staleReply);
        // A stable marker alone must not bring Synchronized back on chrony data from before the reset.
        actor.Tell(new VmClockObserved(8));
        Writer.ExpectNoMsg(Quiet);

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        var recovered = ExpectPublished(ClockStatus.Synchronized);
        Assert.Equal(Clock.Now(), recovered.AsOf);
    }

    [Fact]
    public void A_lost_reset_request_must_be_repeated_until_the_reset_completes()
    {
        var settings = new ClockBoundSettings();
        var actor = StartSynchronized(settings, marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);
        var reset = Poller.ExpectMsg<ResetChrony>();

        // The poller was being restarted and never saw it: after twice a full failing reset cycle the request is repeated.
        var cycle = settings.ResetTries * settings.ResetRetryInterval + settings.BurstTries * settings.BurstRetryInterval
                    + settings.ResetCooldown + 2 * settings.ChronyTimeout;
        // Time passes for the actor's clock and its timers alike, as for a running daemon.
        Clock.Advance(2 * cycle - TimeSpan.FromMilliseconds(1));
        VirtualScheduler.Advance(2 * cycle - TimeSpan.FromMilliseconds(1));
        Poller.ExpectNoMsg(Quiet);
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        VirtualScheduler.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(reset, Poller.ExpectMsg<ResetChrony>());

        // No chrony input all that (virtual) time: the silence watchdog counted failed polls, and the status stayed Disrupted.
        var whileWaiting = Writer.ReceiveWhile(Quiet, m => m as PublishBound);
        Assert.NotEmpty(whileWaiting);
        Assert.All(whileWaiting, p => Assert.Equal(ClockStatus.Disrupted, p!.Bound.Status));

        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        ExpectPublished(ClockStatus.Unknown);
        VirtualScheduler.Advance(4 * cycle);
        Poller.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_second_disruption_during_the_reset_must_be_published_and_ask_for_another_reset()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);
        Poller.ExpectMsg<ResetChrony>();

        actor.Tell(new VmClockObserved(9));
        Assert.Equal(9UL, ExpectPublished(ClockStatus.Disrupted).DisruptionMarker);
        Poller.ExpectMsg<ResetChrony>();
    }

    [Fact]
    public void The_completion_of_an_earlier_reset_must_not_end_a_later_disruption()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);
        var first = Poller.ExpectMsg<ResetChrony>();
        actor.Tell(new VmClockObserved(9));
        ExpectPublished(ClockStatus.Disrupted);
        var second = Poller.ExpectMsg<ResetChrony>();
        Assert.NotEqual(first.Epoch, second.Epoch);

        // The first reset's completion was already in the mailbox: chronyd still holds samples from before marker 9.
        actor.Tell(new ChronyResetCompleted(first.Epoch));
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Disrupted);
        actor.Tell(new VmClockObserved(9));
        Writer.ExpectNoMsg(Quiet);

        actor.Tell(new ChronyResetCompleted(second.Epoch));
        ExpectPublished(ClockStatus.Unknown);
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked()); // marker 9 was read again above: chronyd's answer is all that is waited for
        Assert.Equal(9UL, ExpectPublished(ClockStatus.Synchronized).DisruptionMarker);
    }

    [Fact]
    public void An_unreadable_VMClock_during_the_reset_must_keep_Disrupted()
    {
        var actor = StartSynchronized(marker: 7);
        actor.Tell(new VmClockObserved(8));
        ExpectPublished(ClockStatus.Disrupted);

        actor.Tell(new VmClockUnavailable("seq_count kept changing"));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Disrupted);

        actor.Tell(new ChronyResetCompleted(Poller.ExpectMsg<ResetChrony>().Epoch));
        ExpectPublished(ClockStatus.Unknown);
    }

    [Fact]
    public void A_reset_completion_without_a_disruption_must_change_nothing()
    {
        var actor = StartSynchronized();

        actor.Tell(new ChronyResetCompleted(1));
        actor.Tell(new VmClockObserved(7));

        Writer.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void SIGUSR1_must_hold_Disrupted_until_SIGUSR2_which_resets_chronyd_and_recovers()
    {
        var actor = StartSynchronized(marker: 7);

        actor.Tell(new ForcedDisruption(true));
        Assert.Equal(7UL, ExpectPublished(ClockStatus.Disrupted).DisruptionMarker);
        Poller.ExpectNoMsg(Quiet);

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Disrupted);
        actor.Tell(new VmClockObserved(7));
        Writer.ExpectNoMsg(Quiet);

        actor.Tell(new ForcedDisruption(false));
        var reset = Poller.ExpectMsg<ResetChrony>();
        ExpectPublished(ClockStatus.Disrupted);

        actor.Tell(new ChronyResetCompleted(reset.Epoch));
        ExpectPublished(ClockStatus.Unknown);

        // Marker 7 was read while SIGUSR1 was in force and has not moved: chronyd's answer is all that is waited for.
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked());
        Assert.Equal(Clock.Now(), ExpectPublished(ClockStatus.Synchronized).AsOf);
    }

    [Fact]
    public void A_repeated_SIGUSR1_must_only_log()
    {
        var actor = StartSynchronized();
        actor.Tell(new ForcedDisruption(true));
        ExpectPublished(ClockStatus.Disrupted);

        EventFilter.Info(contains: "already on").ExpectOne(() => actor.Tell(new ForcedDisruption(true)));
        Writer.ExpectNoMsg(Quiet);
        Poller.ExpectNoMsg(Quiet);

        // Still forced: good chrony data keeps it Disrupted.
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Disrupted);
    }

    [Fact]
    public void SIGUSR2_without_SIGUSR1_must_only_log()
    {
        var actor = StartSynchronized();

        EventFilter.Info(contains: "already off").ExpectOne(() => actor.Tell(new ForcedDisruption(false)));
        Writer.ExpectNoMsg(Quiet);
        Poller.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void SIGUSR1_before_any_other_input_must_publish_Disrupted_at_once()
    {
        var actor = StartClockStatus();

        actor.Tell(new ForcedDisruption(true));

        ExpectPublished(ClockStatus.Disrupted);
    }

    [Fact]
    public void An_unreadable_VMClock_must_make_the_status_Unknown_until_the_marker_is_read_again()
    {
        var actor = StartSynchronized(marker: 7);

        actor.Tell(new VmClockUnavailable("seq_count kept changing"));
        Assert.Equal(7UL, ExpectPublished(ClockStatus.Unknown).DisruptionMarker);

        actor.Tell(new VmClockObserved(7));
        ExpectPublished(ClockStatus.Synchronized);
        Poller.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void With_disruption_support_disabled_VMClock_and_signals_must_be_ignored()
    {
        var settings = new ClockBoundSettings { ClockDisruptionSupportEnabled = false };
        var actor = StartClockStatus(settings);

        // No VMClock to wait for: the first chrony input is published.
        var asOf = Clock.Now();
        actor.Tell(Tracked());
        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 0, ClockStatus.Synchronized) with { ClockDisruptionSupportEnabled = false },
            ExpectPublished(ClockStatus.Synchronized));

        EventFilter.Warning(contains: "SIGUSR1 ignored").ExpectOne(() => actor.Tell(new ForcedDisruption(true)));
        EventFilter.Warning(contains: "SIGUSR2 ignored").ExpectOne(() => actor.Tell(new ForcedDisruption(false)));
        actor.Tell(new VmClockObserved(9));
        actor.Tell(new VmClockUnavailable("no device"));
        Writer.ExpectNoMsg(Quiet);
        Poller.ExpectNoMsg(Quiet);

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(LeapStatus.Unsynchronised)));
        var freeRunning = ExpectPublished(ClockStatus.FreeRunning);
        Assert.Equal((asOf, 0UL, false), (freeRunning.AsOf, freeRunning.DisruptionMarker, freeRunning.ClockDisruptionSupportEnabled));
    }
}
