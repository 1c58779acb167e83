using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;
using ClockBound.Io;

namespace ClockBound.Actors.Hosting;

/// <summary>
/// Akka scheduler on the daemon's <see cref="EventLoop"/>
/// (<c>akka.scheduler.implementation = "ClockBound.Actors.Hosting.LoopScheduler, ClockBound.Actors"</c>): timers run on
/// the loop's thread, which sleeps until the next one is due instead of waking on every tick as Akka's
/// <see cref="HashedWheelTimerScheduler"/> does. It creates the loop and disposes it when the actor system is gone;
/// <see cref="LoopExecutorConfigurator"/> runs the default dispatcher's actors on the same loop.
/// </summary>
public sealed class LoopScheduler : SchedulerBase, IDateTimeOffsetNowTimeProvider, IDisposable
{
    private readonly long _createdAt = Stopwatch.GetTimestamp();

    /// <summary>Called by the actor system with the <c>akka.scheduler</c> configuration.</summary>
    public LoopScheduler(Config scheduler, ILoggingAdapter log) : base(scheduler, log) =>
        Loop = new EventLoop("clockbound-loop", ex => log.Error(ex, "A scheduled task failed: {0}", ex.Message));

    /// <summary>The loop the timers run on.</summary>
    public EventLoop Loop { get; }

    protected override DateTimeOffset TimeNow => DateTimeOffset.UtcNow;

    /// <summary>Time since the scheduler was created (the actor system started).</summary>
    public override TimeSpan MonotonicClock => Stopwatch.GetElapsedTime(_createdAt);

    public override TimeSpan HighResMonotonicClock => Stopwatch.GetElapsedTime(_createdAt);

    /// <summary>Stops the loop; pending timers are dropped (the actor system has terminated).</summary>
    public void Dispose() => Loop.Dispose();

    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Loop.Schedule(delay, new Tell(receiver, message, sender, cancelable));

    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message,
        IActorRef sender, ICancelable cancelable) =>
        Loop.Schedule(initialDelay, new Tell(receiver, message, sender, cancelable) { IntervalTicks = StopwatchTicks.From(interval) });

    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Loop.Schedule(delay, new Callback(action, cancelable));

    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Loop.Schedule(delay, new Runnable(action, cancelable));

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Loop.Schedule(initialDelay, new Callback(action, cancelable) { IntervalTicks = StopwatchTicks.From(interval) });

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Loop.Schedule(initialDelay, new Runnable(action, cancelable) { IntervalTicks = StopwatchTicks.From(interval) });

    private sealed class Tell(ICanTell receiver, object message, IActorRef sender, ICancelable? cancelable) : LoopTimer(cancelable)
    {
        public override void Run() => receiver.Tell(message, sender);
    }

    private sealed class Callback(Action action, ICancelable? cancelable) : LoopTimer(cancelable)
    {
        public override void Run() => action();
    }

    private sealed class Runnable(IRunnable runnable, ICancelable? cancelable) : LoopTimer(cancelable)
    {
        public override void Run() => runnable.Run();
    }
}
