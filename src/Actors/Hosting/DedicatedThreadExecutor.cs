using System.Collections.Concurrent;
using Akka.Configuration;
using Akka.Dispatch;

namespace ClockBound.Actors.Hosting;

/// <summary>
/// Akka executor configurator (<c>executor = "ClockBound.Actors.Hosting.DedicatedThreadExecutorConfigurator, ClockBound.Actors"</c>)
/// that runs all of a dispatcher's actors on one dedicated thread which blocks, without spinning, when it has nothing to do.
/// </summary>
/// <remarks>
/// Why: the daemon's work is a chain of tiny messages (a chrony poll passes through the poller, the clock-status actor,
/// the segment writer's back-off supervisor and the writer, ten times a second). On the .NET thread pool every message to
/// another actor is a work item that wakes a second worker (a futex call and a context switch) even though the first
/// would have picked it up a moment later; those wake-ups were most of the daemon's idle CPU (BENCHMARKS.md, "Daemon").
/// On one thread a message between two actors of the dispatcher costs a queue operation: the thread is woken only by
/// messages from outside (timer ticks, the VMClock thread, socket completions). The daemon's actors never block for long
/// (the longest is a chrony reply awaited synchronously for at most 2 ms, see <c>ChronyClient</c>), so one thread keeps up.
/// </remarks>
public sealed class DedicatedThreadExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) => new DedicatedThreadExecutor(id);
}

/// <summary>Runs queued <see cref="IRunnable"/>s in order on one background thread named after the dispatcher.</summary>
internal sealed class DedicatedThreadExecutor : ExecutorService
{
    private readonly ConcurrentQueue<IRunnable> _queue = new();
    /// <summary>A plain event: waiting on it blocks at once (SemaphoreSlim and ManualResetEventSlim spin first).</summary>
    private readonly AutoResetEvent _wake = new(false);
    /// <summary>1 while the thread is (about to be) blocked on <see cref="_wake"/>: only then does a producer signal it.</summary>
    private int _sleeping;
    private volatile bool _shutdown;

    public DedicatedThreadExecutor(string id) : base(id) =>
        new Thread(Loop) { IsBackground = true, Name = id }.Start();

    public override void Execute(IRunnable run)
    {
        _queue.Enqueue(run);
        if (Interlocked.CompareExchange(ref _sleeping, 0, 1) == 1)
            _wake.Set();
    }

    public override void Shutdown()
    {
        _shutdown = true;
        _wake.Set();
    }

    private void Loop()
    {
        while (!_shutdown)
        {
            while (_queue.TryDequeue(out var run))
                run.Run();

            // Announce the sleep (a full fence), then look once more: a producer that enqueued before the announcement
            // did not signal, so its item must be seen here; one that enqueues after it signals.
            Interlocked.Exchange(ref _sleeping, 1);
            if (!_queue.IsEmpty)
            {
                Interlocked.Exchange(ref _sleeping, 0);
                continue;
            }
            _wake.WaitOne();
        }
    }
}
