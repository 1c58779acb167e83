using Akka.Actor;
using ClockBound.Io;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>daemon-behaviour.md, "The clock error bound": what chrony polls, failures and silence do to the segment.</summary>
public sealed class ChronyScenarios(ITestOutputHelper output) : ClockStatusActorSpec(output)
{
    [Fact]
    public void Starting_while_chronyd_is_unsynchronised_must_publish_Unknown_then_Synchronized()
    {
        var changes = CreateTestProbe();
        Sys.EventStream.Subscribe(changes, typeof(ClockStatusChanged));
        var actor = StartClockStatus();

        actor.Tell(new VmClockObserved(7));
        actor.Tell(Tracked(Tracking.Reply(LeapStatus.Unsynchronised)));
        // Never synchronised: FreeRunning is unreachable, and no sample has been good yet.
        Assert.Equal(new ClockErrorBound(default, new Timespec(1000, 0), 0, 7, 1_000, ClockStatus.Unknown, true),
            ExpectPublished(ClockStatus.Unknown));

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        var asOf = Clock.Now();
        actor.Tell(Tracked());
        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.Synchronized), ExpectPublished(ClockStatus.Synchronized));

        var change = changes.ExpectMsg<ClockStatusChanged>();
        Assert.Equal((ClockStatus.Unknown, ClockStatus.Synchronized), (change.From, change.To));
        Assert.Contains("Synchronized", change.Cause);
        Assert.Contains("Reliable", change.Cause);
        changes.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Nothing_must_be_published_before_both_chrony_and_VMClock_have_reported()
    {
        var actor = StartClockStatus();

        actor.Tell(Tracked());
        Writer.ExpectNoMsg(Quiet);

        actor.Tell(new VmClockObserved(PreviousMarker));
        Assert.Equal(PreviousMarker, ExpectPublished(ClockStatus.Synchronized).DisruptionMarker);
    }

    [Fact]
    public void Without_any_input_the_state_must_be_published_one_chrony_timeout_and_poll_period_after_start()
    {
        StartClockStatus();

        VirtualScheduler.Advance(TimeSpan.FromSeconds(1));
        Writer.ExpectNoMsg(Quiet);

        VirtualScheduler.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(new ClockErrorBound(default, new Timespec(1000, 0), 0, 0, 1_000, ClockStatus.Unknown, true),
            ExpectPublished(ClockStatus.Unknown));
    }

    [Fact]
    public void Chronyd_becoming_unsynchronised_must_be_FreeRunning_with_the_last_good_bound()
    {
        var asOf = Clock.Now();
        var actor = StartSynchronized();

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(LeapStatus.Unsynchronised)));

        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.FreeRunning), ExpectPublished(ClockStatus.FreeRunning));
    }

    // A leap status chrony does not define is a reply whose chrony status is Unknown, not a failed poll: Unknown at once
    // (no restart grace), and the last good as_of and bound stay.
    [Theory]
    [InlineData((LeapStatus)4)]
    [InlineData((LeapStatus)0xFFFF)]
    public void An_undefined_leap_status_must_be_Unknown_with_the_last_good_bound(LeapStatus leap)
    {
        var asOf = Clock.Now();
        var actor = StartSynchronized();

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(leap)));

        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.Unknown), ExpectPublished(ClockStatus.Unknown));
    }

    [Theory]
    [InlineData(LeapStatus.InsertSecond)]
    [InlineData(LeapStatus.DeleteSecond)]
    public void A_pending_leap_second_must_still_be_Synchronized(LeapStatus leap)
    {
        var actor = StartSynchronized();

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        var asOf = Clock.Now();
        actor.Tell(Tracked(Tracking.Reply(leap)));

        Assert.Equal(asOf, ExpectPublished(ClockStatus.Synchronized).AsOf);
    }

    [Fact]
    public void Poll_failures_must_be_FreeRunning_within_the_restart_grace_and_Unknown_after_it()
    {
        var asOf = Clock.Now();
        var actor = StartSynchronized();

        actor.Tell(new ChronyPollFailed(asOf.AddNanoseconds(4_900_000_000), ChronyErrorKind.SocketMissing, "chronyd restarting"));
        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.FreeRunning), ExpectPublished(ClockStatus.FreeRunning));

        actor.Tell(new ChronyPollFailed(asOf.AddSeconds(5), ChronyErrorKind.Timeout, "no reply"));
        ExpectPublished(ClockStatus.FreeRunning);

        actor.Tell(new ChronyPollFailed(asOf.AddNanoseconds(5_000_000_001), ChronyErrorKind.Timeout, "no reply"));
        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.Unknown), ExpectPublished(ClockStatus.Unknown));

        Clock.Advance(TimeSpan.FromSeconds(6));
        actor.Tell(Tracked());
        Assert.Equal(Clock.Now(), ExpectPublished(ClockStatus.Synchronized).AsOf);
    }

    [Fact]
    public void A_poll_failure_before_any_good_sample_must_be_Unknown()
    {
        var actor = StartClockStatus();
        actor.Tell(new VmClockObserved(7));

        actor.Tell(new ChronyPollFailed(Clock.Now(), ChronyErrorKind.SocketMissing, "no socket"));

        ExpectPublished(ClockStatus.Unknown);
    }

    [Fact]
    public void A_stale_reference_time_must_be_FreeRunning()
    {
        var asOf = Clock.Now();
        var actor = StartSynchronized();

        // 17 s old with a 2 s update interval: older than 8 intervals.
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(referenceTime: Tracking.Realtime.AddSeconds(-17))));

        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.FreeRunning), ExpectPublished(ClockStatus.FreeRunning));
    }

    [Fact]
    public void A_configured_stale_factor_must_decide_how_old_a_reference_time_may_be()
    {
        // Factor 2 with the replies' 2 s update interval: stale after 4 s (the default 8 would allow 16 s).
        var actor = StartSynchronized(new ClockBoundSettings { StaleFactor = 2 });

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(referenceTime: Tracking.Realtime.AddSeconds(-3))));
        ExpectPublished(ClockStatus.Synchronized);

        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(referenceTime: Tracking.Realtime.AddSeconds(-5))));
        ExpectPublished(ClockStatus.FreeRunning);
    }

    [Fact]
    public void A_configured_void_after_must_set_void_after_in_the_published_record()
    {
        var actor = StartClockStatus(new ClockBoundSettings { VoidAfter = TimeSpan.FromSeconds(30) });
        var asOf = Clock.Now();

        actor.Tell(new VmClockObserved(PreviousMarker));
        actor.Tell(Tracked());

        Assert.Equal(asOf.AddSeconds(30), ExpectPublished(ClockStatus.Synchronized).VoidAfter);
    }

    [Fact]
    public void A_configured_restart_grace_must_decide_how_long_poll_failures_stay_FreeRunning()
    {
        var asOf = Clock.Now();
        var actor = StartSynchronized(new ClockBoundSettings { RestartGrace = TimeSpan.FromSeconds(2) });

        actor.Tell(new ChronyPollFailed(asOf.AddSeconds(2), ChronyErrorKind.Timeout, "no reply"));
        ExpectPublished(ClockStatus.FreeRunning);

        // The default grace (5 s) would still say FreeRunning here.
        actor.Tell(new ChronyPollFailed(asOf.AddNanoseconds(2_000_000_001), ChronyErrorKind.Timeout, "no reply"));
        ExpectPublished(ClockStatus.Unknown);
    }

    [Fact]
    public void A_reference_time_in_the_future_must_count_as_a_failed_poll()
    {
        var asOf = Clock.Now();
        var actor = StartSynchronized();
        var future = Tracking.Reply(referenceTime: Tracking.Realtime.AddSeconds(1));

        Clock.Advance(TimeSpan.FromSeconds(1));
        actor.Tell(Tracked(future));
        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.FreeRunning), ExpectPublished(ClockStatus.FreeRunning));

        Clock.Advance(TimeSpan.FromSeconds(5));
        actor.Tell(Tracked(future));
        ExpectPublished(ClockStatus.Unknown);
    }

    [Fact]
    public void A_silent_chrony_poller_must_be_reported_as_failed_polls()
    {
        var asOf = Clock.Now();
        StartSynchronized();

        // The limit is the chrony timeout (1 s) plus two poll periods: 1.1 s of silence is still fine.
        Elapse(TimeSpan.FromMilliseconds(1100));
        Writer.ExpectNoMsg(Quiet);

        // At 1.2 s it counts as a failed poll: FreeRunning with the last good bound.
        Elapse(TimeSpan.FromMilliseconds(100));
        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds, 7, ClockStatus.FreeRunning), ExpectPublished(ClockStatus.FreeRunning));

        // One synthesized failure per limit of silence.
        Elapse(TimeSpan.FromMilliseconds(1100));
        Writer.ExpectNoMsg(Quiet);
        Elapse(TimeSpan.FromMilliseconds(100));
        ExpectPublished(ClockStatus.FreeRunning);
        Elapse(TimeSpan.FromMilliseconds(1200));
        ExpectPublished(ClockStatus.FreeRunning);
        Elapse(TimeSpan.FromMilliseconds(1200));
        ExpectPublished(ClockStatus.FreeRunning);

        // Still silent beyond the restart grace (5 s) of the last good sample: Unknown.
        Elapse(TimeSpan.FromMilliseconds(1200));
        ExpectPublished(ClockStatus.Unknown);
    }

    [Fact]
    public void Chrony_inputs_must_keep_the_silence_check_from_firing()
    {
        var actor = StartSynchronized();

        // Inputs every 100 ms for 5 s: far beyond the 1.2 s limit in total, never beyond it between two inputs.
        for (var i = 0; i < 50; i++)
        {
            Elapse(TimeSpan.FromMilliseconds(100));
            actor.Tell(Tracked());
            ExpectPublished(ClockStatus.Synchronized);
        }

        // Then silence: reported once the limit after the LAST input is reached, not before.
        Elapse(TimeSpan.FromMilliseconds(1100));
        Writer.ExpectNoMsg(Quiet);
        Elapse(TimeSpan.FromMilliseconds(100));
        ExpectPublished(ClockStatus.FreeRunning);
    }

    /// <summary>Moves the actor's monotonic clock and the virtual scheduler forward together, in 100 ms steps (as time
    /// passes for a running daemon).</summary>
    private void Elapse(TimeSpan duration)
    {
        var step = TimeSpan.FromMilliseconds(100);
        for (var done = TimeSpan.Zero; done < duration; done += step)
        {
            var next = duration - done < step ? duration - done : step;
            Clock.Advance(next);
            VirtualScheduler.Advance(next);
        }
    }

    [Fact]
    public void Each_chrony_input_must_be_published_even_without_a_state_change()
    {
        var actor = StartSynchronized();

        for (var i = 1; i <= 3; i++)
        {
            Clock.Advance(TimeSpan.FromMilliseconds(100));
            var asOf = Clock.Now();
            actor.Tell(Tracked());
            Assert.Equal(asOf, ExpectPublished(ClockStatus.Synchronized).AsOf);
        }
    }

    [Fact]
    public void A_reply_requested_before_the_last_good_sample_must_not_move_as_of_backwards()
    {
        var actor = StartSynchronized();
        var older = Tracked(); // requested now, answered only after a newer one
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        var newer = Clock.Now();
        actor.Tell(Tracked());
        Assert.Equal(newer, ExpectPublished(ClockStatus.Synchronized).AsOf);

        actor.Tell(older);

        Writer.ExpectNoMsg(Quiet);
    }
}
