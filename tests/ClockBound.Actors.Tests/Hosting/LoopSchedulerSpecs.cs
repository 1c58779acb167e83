using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using ClockBound.Actors.Hosting;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Hosting;

/// <summary>
/// Specifies <see cref="LoopScheduler"/> and <see cref="LoopExecutorConfigurator"/> in a real actor system configured
/// through HOCON: Akka's timers and scheduler calls run on the loop, the default dispatcher's actors run on the loop's
/// thread, the loop's thread ends with the actor system, and the executor refuses any other scheduler.
/// </summary>
public sealed class LoopSchedulerSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(OnTheLoop, output: output)
{
    private static readonly Config OnTheLoop = ConfigurationFactory.ParseString("""
        akka.scheduler.implementation = "ClockBound.Actors.Hosting.LoopScheduler, ClockBound.Actors"
        akka.actor.default-dispatcher.executor = "ClockBound.Actors.Hosting.LoopExecutorConfigurator, ClockBound.Actors"
        akka.loggers-dispatcher = "akka.actor.internal-dispatcher"
        """);

    /// <summary>Only bounds a wait for something that must happen; a slow machine never reaches it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Long enough for a message that was going to arrive to show up; only used to assert silence.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private const string LoopThreadName = "clockbound-loop";

    [Fact]
    public void The_actor_system_must_use_the_loop_scheduler()
    {
        Assert.IsType<LoopScheduler>(Sys.Scheduler);
    }

    [Fact]
    public void Actors_on_the_default_dispatcher_must_run_on_the_loop_thread()
    {
        var probe = CreateTestProbe();
        var first = Sys.ActorOf(Props.Create(() => new ThreadReporter()), "first");
        var second = Sys.ActorOf(Props.Create(() => new ThreadReporter()), "second");

        first.Tell("first", probe.Ref);
        second.Tell("second", probe.Ref);
        var seen = new[] { probe.ExpectMsg<ThreadSeen>(Patience), probe.ExpectMsg<ThreadSeen>(Patience) };

        Assert.All(seen, s => Assert.Equal(LoopThreadName, s.Name));
        Assert.Single(seen.Select(s => s.ThreadId).Distinct());
        Assert.NotEqual(Environment.CurrentManagedThreadId, seen[0].ThreadId);
    }

    [Fact]
    public void Scheduled_actions_must_run_on_the_same_thread_as_the_actors()
    {
        var probe = CreateTestProbe();
        var actor = Sys.ActorOf(Props.Create(() => new ThreadReporter()));
        actor.Tell("actor", probe.Ref);
        var actorThread = probe.ExpectMsg<ThreadSeen>(Patience).ThreadId;

        Sys.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(10),
            () => probe.Ref.Tell(ThreadSeen.Here("action")));

        var action = probe.ExpectMsg<ThreadSeen>(Patience);
        Assert.Equal(LoopThreadName, action.Name);
        Assert.Equal(actorThread, action.ThreadId);
    }

    [Fact]
    public void ScheduleTellOnce_must_deliver_the_message_unless_cancelled()
    {
        var probe = CreateTestProbe();

        var cancelled = Sys.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromMilliseconds(50), probe.Ref, "cancelled",
            ActorRefs.NoSender);
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(100), probe.Ref, "delivered", ActorRefs.NoSender);
        cancelled.Cancel();

        // The cancelled message was due first: had it been sent, it would arrive first.
        probe.ExpectMsg("delivered", Patience);
        probe.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void ScheduleTellRepeatedly_must_deliver_until_cancelled()
    {
        var probe = CreateTestProbe();
        var interval = TimeSpan.FromMilliseconds(20);

        var repeated = Sys.Scheduler.ScheduleTellRepeatedlyCancelable(interval, interval, probe.Ref, "tick",
            ActorRefs.NoSender);
        for (var i = 0; i < 3; i++)
            probe.ExpectMsg("tick", Patience);
        repeated.Cancel();

        // A tick already sent when Cancel returned may still arrive before this; none may follow it.
        Sys.Scheduler.ScheduleTellOnce(interval * 5, probe.Ref, "after", ActorRefs.NoSender);
        probe.FishForMessage(message => message is "after", Patience);
        probe.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Actor_timers_must_deliver_single_and_periodic_messages_until_cancelled()
    {
        var probe = CreateTestProbe();
        var actor = Sys.ActorOf(Props.Create(() => new TimerActor(probe.Ref)));

        actor.Tell(TimerActor.StartSingle);
        var single = probe.ExpectMsg<ThreadSeen>(Patience);
        Assert.Equal(TimerActor.Single, single.What);
        Assert.Equal(LoopThreadName, single.Name);

        actor.Tell(TimerActor.StartPeriodic);
        for (var i = 0; i < 3; i++)
            Assert.Equal(TimerActor.Tick, probe.ExpectMsg<ThreadSeen>(Patience).What);

        actor.Tell(TimerActor.CancelPeriodic);
        // Akka's timers drop a tick that was already sent when the timer is cancelled: none may follow the reply.
        probe.FishForMessage(message => message is TimerActor.Cancelled, Patience);
        probe.ExpectNoMsg(Quiet);
    }

    [Fact]
    public async Task Terminating_the_actor_system_must_end_the_loop_thread()
    {
        var system = ActorSystem.Create("terminated", OnTheLoop);
        var scheduler = Assert.IsType<LoopScheduler>(system.Scheduler);
        var loopThread = new TaskCompletionSource<OsThread>(TaskCreationOptions.RunContinuationsAsynchronously);
        scheduler.Loop.Execute(new ActionRunnable(() => loopThread.SetResult(OsThread.Current())));
        var thread = await loopThread.Task.WaitAsync(Patience);

        await system.Terminate().WaitAsync(Patience);

        thread.WaitUntilExited(Patience);
        scheduler.Dispose(); // again: a no-op
    }

    [Fact]
    public async Task With_another_scheduler_the_loop_executor_must_run_the_actors_on_a_loop_of_its_own()
    {
        // An operator's -c file may name another scheduler (Akka's own, say) and keep the daemon's executor.
        var system = ActorSystem.Create("default-scheduler", ConfigurationFactory.ParseString("""
            akka.actor.default-dispatcher.executor = "ClockBound.Actors.Hosting.LoopExecutorConfigurator, ClockBound.Actors"
            akka.loggers-dispatcher = "akka.actor.internal-dispatcher"
            """));
        try
        {
            Assert.IsType<HashedWheelTimerScheduler>(system.Scheduler);
            var reporter = system.ActorOf(Props.Create(() => new ThreadReporter()));

            var first = await reporter.Ask<ThreadSeen>("first", Patience);
            var second = await reporter.Ask<ThreadSeen>("second", Patience);

            Assert.Equal("akka.actor.default-dispatcher", first.Name);
            Assert.Equal(first.ThreadId, second.ThreadId);
            Assert.NotEqual(Environment.CurrentManagedThreadId, first.ThreadId);
        }
        finally
        {
            await system.Terminate().WaitAsync(Patience);
        }
    }

    private sealed record ThreadSeen(string What, int ThreadId, string? Name)
    {
        public static ThreadSeen Here(string what) => new(what, Environment.CurrentManagedThreadId, Thread.CurrentThread.Name);
    }

    /// <summary>Answers any string with the thread it ran on.</summary>
    private sealed class ThreadReporter : ReceiveActor
    {
        public ThreadReporter() => Receive<string>(what => Sender.Tell(ThreadSeen.Here(what)));
    }

    /// <summary>Starts and cancels its timers on command, and reports each timer message (with its thread) to the probe.</summary>
    private sealed class TimerActor : ReceiveActor, IWithTimers
    {
        public const string StartSingle = "start single", StartPeriodic = "start periodic", CancelPeriodic = "cancel periodic";
        public const string Single = "single", Tick = "tick", Cancelled = "cancelled";
        private const string SingleKey = "single-timer", PeriodicKey = "periodic-timer";

        public TimerActor(IActorRef probe)
        {
            Receive<string>(message => message == StartSingle, _ => Timers.StartSingleTimer(SingleKey, Single, TimeSpan.FromMilliseconds(20)));
            Receive<string>(message => message == StartPeriodic, _ => Timers.StartPeriodicTimer(PeriodicKey, Tick, TimeSpan.FromMilliseconds(20)));
            Receive<string>(message => message == CancelPeriodic, _ =>
            {
                Timers.Cancel(PeriodicKey);
                probe.Tell(Cancelled);
            });
            Receive<string>(message => probe.Tell(ThreadSeen.Here(message)));
        }

        public ITimerScheduler Timers { get; set; } = null!;
    }
}
