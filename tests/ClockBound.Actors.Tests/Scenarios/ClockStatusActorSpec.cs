using ClockBound.Actors.StateMachine;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using ClockBound.Io;
using ClockBound.Io.Segment;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Scenarios;

/// <summary>
/// Harness of the clock-status scenarios: virtual scheduler time (timers fire only on <see cref="TestScheduler.Advance"/>),
/// a manual monotonic clock, one probe in the segment writer's place and one in the chrony poller's.
/// </summary>
public abstract class ClockStatusActorSpec : Akka.TestKit.Xunit2.TestKit
{
    private static readonly Config VirtualTime = VirtualTimeConfig("akka.loglevel = DEBUG");

    /// <summary>An actor system whose scheduler is a <see cref="TestScheduler"/>, with <paramref name="logging"/> settings.</summary>
    internal static Config VirtualTimeConfig(string logging) => ConfigurationFactory.ParseString($"""
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        {logging}
        """);

    /// <summary>Long enough for a message that was going to arrive to show up; only used to assert silence.</summary>
    protected static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    protected ClockStatusActorSpec(ITestOutputHelper output) : base(VirtualTime, output: output)
    {
        Writer = CreateTestProbe("writer");
        Poller = CreateTestProbe("poller");
    }

    protected TestProbe Writer { get; }
    protected TestProbe Poller { get; }
    protected ManualMonotonicClock Clock { get; } = new(new Timespec(5_000, 0));
    protected TestScheduler VirtualScheduler => (TestScheduler)Sys.Scheduler;

    /// <summary>The marker of <see cref="WarmRestart"/>, and the one <see cref="StartSynchronized"/> adopts by default.</summary>
    protected const ulong PreviousMarker = 7;

    /// <summary>A warm restart: the previous run left Synchronized with marker <see cref="PreviousMarker"/> and disruption
    /// support on, so that marker is adopted without a reset. The default start of these scenarios.</summary>
    protected static PreviousRun WarmRestart { get; } = PreviousRun.Left(
        GoodRecord(new Timespec(4_000, 0), Tracking.BoundNanoseconds, PreviousMarker, ClockStatus.Synchronized));

    /// <summary>Starts the actor and waits until its PreStart has run (so its timers exist in virtual time).
    /// <paramref name="previous"/> defaults to <see cref="WarmRestart"/>.</summary>
    protected IActorRef StartClockStatus(ClockBoundSettings? settings = null, IActorRef? writer = null, IActorRef? poller = null,
        PreviousRun? previous = null)
    {
        var actor = Sys.ActorOf(ClockStatusActor.Props(settings ?? new ClockBoundSettings(), previous ?? WarmRestart,
            writer ?? Writer, poller ?? Poller, Clock.Now));
        var identify = CreateTestProbe();
        actor.Tell(new Identify(null), identify);
        identify.ExpectMsg<ActorIdentity>();
        return actor;
    }

    /// <summary>Starts the actor, adopts <paramref name="marker"/> and feeds one good sample: published Synchronized.</summary>
    protected IActorRef StartSynchronized(ClockBoundSettings? settings = null, ulong marker = PreviousMarker, TestProbe? writer = null,
        TestProbe? poller = null)
    {
        writer ??= Writer;
        var actor = StartClockStatus(settings, writer, poller ?? Poller);
        actor.Tell(new VmClockObserved(marker));
        actor.Tell(Tracked());
        ExpectPublished(ClockStatus.Synchronized, writer);
        return actor;
    }

    /// <summary>A tracking reply sampled now (as_of = the manual clock).</summary>
    protected ChronyTracked Tracked(Io.Chrony.TrackingReply? reply = null) => new(reply ?? Tracking.Reply(), Clock.Now(), Tracking.Realtime);

    protected ClockErrorBound ExpectPublished(ClockStatus status, TestProbe? writer = null)
    {
        var published = (writer ?? Writer).ExpectMsg<PublishBound>();
        Assert.Equal(status, published.Bound.Status);
        return published.Bound;
    }

    /// <summary>The record for a Synchronized sample at <paramref name="asOf"/> under default settings.</summary>
    protected static ClockErrorBound GoodRecord(Timespec asOf, long bound, ulong marker, ClockStatus status) =>
        new(asOf, asOf.AddSeconds(1000), bound, marker, MaxDriftPpb: 1_000, status, ClockDisruptionSupportEnabled: true);
}
