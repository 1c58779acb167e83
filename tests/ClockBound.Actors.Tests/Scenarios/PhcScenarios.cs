using Akka.Actor;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>daemon-behaviour.md, step 3 of "The clock error bound": the PHC's own error bound.</summary>
public sealed class PhcScenarios(ITestOutputHelper output) : ClockStatusActorSpec(output)
{
    private static readonly ClockBoundSettings WithPhc = new() { PhcReferenceId = Tracking.PhcRefId, PhcInterface = "eth0" };

    private IActorRef StartWithPhc()
    {
        var actor = StartClockStatus(WithPhc);
        actor.Tell(new VmClockObserved(7));
        return actor;
    }

    [Fact]
    public void The_PHC_bound_must_be_added_only_while_chronyd_is_synchronised_to_the_PHC()
    {
        var actor = StartWithPhc();
        actor.Tell(new PhcBoundRead(25_000, Clock.Now()));

        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        Assert.Equal(Tracking.BoundNanoseconds + 25_000, ExpectPublished(ClockStatus.Synchronized).BoundNanoseconds);

        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.NtpRefId)));
        Assert.Equal(Tracking.BoundNanoseconds, ExpectPublished(ClockStatus.Synchronized).BoundNanoseconds);
    }

    [Fact]
    public void Without_PHC_settings_a_PHC_reading_must_not_change_the_bound()
    {
        var actor = StartClockStatus();
        actor.Tell(new VmClockObserved(7));
        actor.Tell(new PhcBoundRead(25_000, Clock.Now()));

        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));

        Assert.Equal(Tracking.BoundNanoseconds, ExpectPublished(ClockStatus.Synchronized).BoundNanoseconds);
    }

    [Fact]
    public void A_failed_PHC_read_must_make_polls_referenced_to_the_PHC_fail()
    {
        var actor = StartWithPhc();
        actor.Tell(new PhcBoundRead(25_000, Clock.Now()));
        var asOf = Clock.Now();
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        ExpectPublished(ClockStatus.Synchronized);

        actor.Tell(new PhcReadFailed("phc_error_bound: No such file or directory"));
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        Assert.Equal(GoodRecord(asOf, Tracking.BoundNanoseconds + 25_000, 7, ClockStatus.FreeRunning), ExpectPublished(ClockStatus.FreeRunning));

        // Polls referenced elsewhere do not need the PHC.
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.NtpRefId)));
        Assert.Equal(Tracking.BoundNanoseconds, ExpectPublished(ClockStatus.Synchronized).BoundNanoseconds);

        actor.Tell(new PhcBoundRead(30_000, Clock.Now()));
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        Assert.Equal(Tracking.BoundNanoseconds + 30_000, ExpectPublished(ClockStatus.Synchronized).BoundNanoseconds);
    }

    [Fact]
    public void Before_the_first_PHC_read_polls_referenced_to_the_PHC_must_fail()
    {
        var actor = StartWithPhc();

        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));

        var published = ExpectPublished(ClockStatus.Unknown);
        Assert.Equal(0, published.BoundNanoseconds);
    }

    [Fact]
    public void Unsynchronised_chronyd_referenced_to_the_PHC_must_be_FreeRunning_not_a_failure()
    {
        var actor = StartWithPhc();
        actor.Tell(new PhcBoundRead(25_000, Clock.Now()));
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        ExpectPublished(ClockStatus.Synchronized);

        // Far beyond the restart grace: a failure would be Unknown, an unsynchronised chronyd stays FreeRunning.
        Clock.Advance(TimeSpan.FromSeconds(60));
        actor.Tell(new PhcBoundRead(25_000, Clock.Now())); // the reader kept reading meanwhile
        actor.Tell(Tracked(Tracking.Reply(LeapStatus.Unsynchronised, Tracking.PhcRefId)));
        ExpectPublished(ClockStatus.FreeRunning);
    }
    [Fact]
    public void A_PHC_bound_older_than_its_limit_must_make_polls_referenced_to_the_PHC_fail()
    {
        var actor = StartWithPhc();
        // The reader's last read started now and then hung: no further PhcBoundRead, no PhcReadFailed.
        actor.Tell(new PhcBoundRead(25_000, Clock.Now()));
        var asOf = Clock.Now();
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        ExpectPublished(ClockStatus.Synchronized);

        Clock.Advance(WithPhc.PhcMaxAge);
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        Assert.Equal(Clock.Now(), ExpectPublished(ClockStatus.Synchronized).AsOf);

        Clock.Advance(TimeSpan.FromMilliseconds(1));
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        var stale = ExpectPublished(ClockStatus.FreeRunning);
        Assert.Equal(asOf.AddNanoseconds(WithPhc.PhcMaxAge.Ticks * 100), stale.AsOf); // the last good sample, growing in clients

        // A fresh read makes the PHC usable again.
        actor.Tell(new PhcBoundRead(26_000, Clock.Now()));
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        Assert.Equal(Tracking.BoundNanoseconds + 26_000, ExpectPublished(ClockStatus.Synchronized).BoundNanoseconds);
    }

    [Fact]
    public void A_negative_PHC_bound_must_count_as_a_failed_read_not_crash_the_actor()
    {
        var actor = StartWithPhc();
        actor.Tell(new PhcBoundRead(25_000, Clock.Now()));
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));
        ExpectPublished(ClockStatus.Synchronized);

        actor.Tell(new PhcBoundRead(-1, Clock.Now()));
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        actor.Tell(Tracked(Tracking.Reply(referenceId: Tracking.PhcRefId)));

        ExpectPublished(ClockStatus.FreeRunning);
        Poller.ExpectNoMsg(Quiet); // no restart, so no reset of chronyd
    }
}
