using Akka.Configuration;
using Akka.Dispatch;

namespace ClockBound.Actors.Hosting;

/// <summary>
/// Akka executor configurator (<c>executor = "ClockBound.Actors.Hosting.LoopExecutorConfigurator, ClockBound.Actors"</c>)
/// that runs a dispatcher's actors on the <see cref="EventLoop"/> of the <see cref="LoopScheduler"/>, which must be the
/// actor system's scheduler. A message between two actors on the loop then costs a queue operation instead of waking a
/// thread-pool worker, and a timer and the messages it causes run in one wake-up (see <see cref="EventLoop"/>).
/// </summary>
public sealed class LoopExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) => Prerequisites.Scheduler is LoopScheduler scheduler
        ? new LoopExecutor(id, scheduler.Loop)
        : throw new ConfigurationException(
            $"dispatcher {id}: executor {typeof(LoopExecutorConfigurator).FullName} needs akka.scheduler.implementation = " +
            $"\"{typeof(LoopScheduler).FullName}, {typeof(LoopScheduler).Assembly.GetName().Name}\", not {Prerequisites.Scheduler.GetType().FullName}");

    /// <summary>Queues work on the loop. Shutting the dispatcher down leaves the loop alone: the scheduler owns it.</summary>
    private sealed class LoopExecutor(string id, EventLoop loop) : ExecutorService(id)
    {
        public override void Execute(IRunnable run) => loop.Execute(run);

        public override void Shutdown()
        {
        }
    }
}
