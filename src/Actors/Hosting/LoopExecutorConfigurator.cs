using Akka.Configuration;
using Akka.Dispatch;

namespace ClockBound.Actors.Hosting;

/// <summary>
/// Akka executor configurator (<c>executor = "ClockBound.Actors.Hosting.LoopExecutorConfigurator, ClockBound.Actors"</c>)
/// that runs a dispatcher's actors on the <see cref="EventLoop"/> of the <see cref="LoopScheduler"/>, the actor system's
/// scheduler in the daemon's configuration. A message between two actors on the loop then costs a queue operation
/// instead of waking a thread-pool worker, and a timer and the messages it causes run in one wake-up (see
/// <see cref="EventLoop"/>).
/// </summary>
/// <remarks>
/// With another scheduler (an operator's <c>akka.scheduler.implementation</c> in a <c>-c</c> file) the actors run on a
/// loop of their own, a thread named after the dispatcher, and the timers stay on that scheduler's thread: the daemon
/// works the same, with the wake-ups of two threads instead of one.
/// </remarks>
public sealed class LoopExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) => Prerequisites.Scheduler is LoopScheduler scheduler
        ? new LoopExecutor(id, scheduler.Loop, ownsLoop: false)
        : new LoopExecutor(id, new EventLoop(id, _ => { }), ownsLoop: true); // runs no timers: nothing to report

    /// <summary>Queues work on the loop; shutting the dispatcher down stops the loop only if this executor owns it.</summary>
    private sealed class LoopExecutor(string id, EventLoop loop, bool ownsLoop) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => loop.Execute(run);

        public override void Shutdown()
        {
            if (ownsLoop) loop.Dispose();
        }
    }
}
