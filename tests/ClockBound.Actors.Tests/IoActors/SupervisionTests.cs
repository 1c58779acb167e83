using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace ClockBound.Actors.Tests.IoActors;

public sealed class SupervisionTests : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private static readonly ClockBoundSettings FastBackoff = new()
    {
        RestartBackoffMin = TimeSpan.FromMilliseconds(10),
        RestartBackoffMax = TimeSpan.FromMilliseconds(100),
        RestartBackoffRandomFactor = 0.2,
    };

    [Fact]
    public void A_child_that_throws_must_be_started_again_and_keep_working()
    {
        var probe = CreateTestProbe();
        var supervisor = Sys.ActorOf(Supervision.WithBackoff(Flaky.Props(probe, failStarts: 0), "flaky", FastBackoff));
        Assert.Equal("started 1", probe.ExpectMsg<string>(Patience));

        supervisor.Tell("crash");
        Assert.Equal("started 2", probe.ExpectMsg<string>(Patience));

        supervisor.Tell("ping");
        Assert.Equal("pong from instance 2", probe.ExpectMsg<string>(Patience));
    }

    [Fact]
    public void A_child_that_fails_to_start_must_be_retried_until_it_starts()
    {
        // Akka's default decider would stop a child whose PreStart throws (ActorInitializationException) for good.
        var probe = CreateTestProbe();
        var supervisor = Sys.ActorOf(Supervision.WithBackoff(Flaky.Props(probe, failStarts: 3), "flaky", FastBackoff));

        Assert.Equal("started 4", probe.ExpectMsg<string>(Patience));
        supervisor.Tell("ping");
        Assert.Equal("pong from instance 4", probe.ExpectMsg<string>(Patience));
    }

    [Fact]
    public void Each_restart_must_be_logged_with_its_cause()
    {
        var probe = CreateTestProbe();
        var supervisor = Sys.ActorOf(Supervision.WithBackoff(Flaky.Props(probe, failStarts: 0), "flaky", FastBackoff));
        probe.ExpectMsg<string>(Patience);

        EventFilter.Exception<InvalidOperationException>(contains: "crash requested").ExpectOne(Patience, () => supervisor.Tell("crash"));
        probe.ExpectMsg("started 2", Patience);
    }

    /// <summary>Counts its instances (through a shared counter); fails the first <c>failStarts</c> starts and on "crash".</summary>
    private sealed class Flaky : ReceiveActor
    {
        private readonly IActorRef _probe;
        private readonly int _instance;
        private readonly int _failStarts;

        public Flaky(IActorRef probe, StrongBox<int> instances, int failStarts)
        {
            _probe = probe;
            _instance = Interlocked.Increment(ref instances.Value);
            _failStarts = failStarts;
            Receive<string>(m => m == "crash", _ => throw new InvalidOperationException("crash requested"));
            Receive<string>(m => m == "ping", _ => _probe.Tell($"pong from instance {_instance}"));
        }

        public static Props Props(IActorRef probe, int failStarts)
        {
            var instances = new StrongBox<int>(0);
            return Akka.Actor.Props.Create(() => new Flaky(probe, instances, failStarts));
        }

        protected override void PreStart()
        {
            if (_instance <= _failStarts) throw new IOException($"start {_instance} fails");
            _probe.Tell($"started {_instance}");
        }
    }
}
