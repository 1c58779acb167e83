using System.Globalization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using ClockBound.Actors;
using ClockBound.Actors.Hosting;
using ClockBound.Actors.StateMachine;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Benchmarks;

/// <summary>
/// `alloc [CYCLES] [ROUNDS] [--types]` (defaults 1000 and 3): bytes allocated on the daemon's event-loop thread per steady-state poll cycle (poll tick → tracking
/// request → reply look → ChronyTracked → PublishBound → segment write → SegmentWritten). The daemon's actors
/// (<see cref="ClockBoundActor"/>) run in-process in an actor system configured with config/clockbound.conf's akka section
/// (so <see cref="LoopScheduler"/> and <see cref="LoopExecutorConfigurator"/>), against a sandboxed chronyd pair, a sealed
/// memfd VMClock and a segment in a temp dir, polling chronyd every 10 ms. After Synchronized and a 2 s warm-up,
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> is read on the loop (a scheduler action runs there) before and
/// after CYCLES segment writes, counted by a probe actor subscribed to <see cref="SegmentWritten"/> (as the systemd
/// notifier is). Everything that runs on the loop in that window is counted: the VMClock watcher's own thread tells the
/// loop only on a heartbeat (1 s), so almost all of it is the poll cycle. The loop thread's CPU time per cycle
/// (<c>/proc/self/task/TID/schedstat</c>) is shown too, but the figure is noisy on a shared machine. `--types` adds a
/// sample of the allocated types (<see cref="AllocationSampler"/>).
/// </summary>
internal static class PollAllocations
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task RunAsync(string[] args)
    {
        bool types = args.Contains("--types");
        var numbers = args.Skip(1).Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        int cycles = numbers.Length > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 1000;
        int rounds = numbers.Length > 1 ? int.Parse(numbers[1], CultureInfo.InvariantCulture) : 3;

        await using var sandbox = await ChronydSandbox.StartPairAsync();
        await sandbox.WaitSynchronisedAsync(TimeSpan.FromSeconds(30));
        using var dir = new TempDirectory("cballoc");
        using var vmClock = SealedVmClockFile.Create(marker: 1);
        var settings = new ClockBoundSettings
        {
            ShmPath = dir.Combine("shm0"),
            ChronySocketPath = sandbox.ClientSocketPath,
            VmClockPath = vmClock.Path,
            MaxDriftPpb = 50_000,
            ChronyPollInterval = PollInterval,
        };

        // The daemon's own HOCON (its akka section wires the loop); only the log level is lowered, so that the startup
        // lines do not clutter the table (the loggers run off the loop anyway).
        var config = ConfigurationFactory.ParseString("akka.loglevel = WARNING")
            .WithFallback(ConfigurationFactory.ParseString(File.ReadAllText(RepoPaths.Config("clockbound.conf"))));
        using var system = ActorSystem.Create("clockbound", config);
        if (system.Scheduler is not LoopScheduler)
            throw new InvalidOperationException($"the scheduler is {system.Scheduler.GetType().Name}, not the LoopScheduler");

        var writes = new WriteCounter();
        var probe = system.ActorOf(Props.Create(() => new WriteProbe(writes)), "write-probe");
        system.ActorOf(ClockBoundActor.Props(settings, PreviousRun.Unusable("alloc bench: fresh segment")), ClockBoundActor.Name);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (writes.LastStatus != ClockStatus.Synchronized)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not Synchronized after 60 s (status {writes.LastStatus})");
            await Task.Delay(50);
        }
        await Task.Delay(TimeSpan.FromSeconds(2)); // warm-up: tiered JIT, caches, the loop's queues at their size

        int loopThreadId = await OnLoopThreadId(system);
        using var sampler = types ? new AllocationSampler(loopThreadId) : null;
        var rows = new List<(long Cycles, double BytesPerCycle, double CpuMicroseconds, int Gen0, long NotSynchronized)>();
        for (int round = 0; round < rounds; round++)
        {
            int gen0Before = GC.CollectionCount(0);
            long notSynchronizedBefore = Interlocked.Read(ref writes.NotSynchronized);
            var before = await OnLoop(system, writes);
            long cpuBefore = LoopCpuNanoseconds(loopThreadId);
            while (true)
            {
                var now = await OnLoop(system, writes);
                if (now.Writes - before.Writes >= cycles)
                {
                    long n = now.Writes - before.Writes;
                    rows.Add((n, (double)(now.Bytes - before.Bytes) / n, (LoopCpuNanoseconds(loopThreadId) - cpuBefore) / 1000.0 / n,
                        GC.CollectionCount(0) - gen0Before,
                        Interlocked.Read(ref writes.NotSynchronized) - notSynchronizedBefore));
                    break;
                }
                await Task.Delay(100);
            }
        }
        GC.KeepAlive(probe);
        await system.Terminate();

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPUs, .NET {Environment.Version}, " +
            $"chrony poll every {PollInterval.TotalMilliseconds:0} ms, {cycles} cycles a round");
        Console.WriteLine("| round | poll cycles (segment writes) | bytes per cycle on the loop thread | loop CPU per cycle (µs) | gen-0 GCs (process) | writes not Synchronized |");
        Console.WriteLine("|------:|-----------------------------:|-----------------------------------:|------------------------:|--------------------:|------------------------:|");
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            Console.WriteLine(string.Create(inv, $"| {i + 1} | {r.Cycles} | {r.BytesPerCycle:0.0} | {r.CpuMicroseconds:0.0} | {r.Gen0} | {r.NotSynchronized} |"));
        }
        sampler?.Print();
    }

    /// <summary>The loop thread's allocated bytes and the writes counted so far, read together on the loop.</summary>
    private static Task<(long Bytes, long Writes)> OnLoop(ActorSystem system, WriteCounter writes)
    {
        var done = new TaskCompletionSource<(long, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, () =>
        {
            if (Thread.CurrentThread.Name != "clockbound-loop")
                done.TrySetException(new InvalidOperationException($"not on the loop: {Thread.CurrentThread.Name}"));
            else
                done.TrySetResult((GC.GetAllocatedBytesForCurrentThread(), writes.Count));
        });
        return done.Task;
    }

    /// <summary>The loop thread's time on a CPU so far (<c>schedstat</c>'s first field), read from this thread.</summary>
    private static long LoopCpuNanoseconds(int loopThreadId) =>
        long.Parse(File.ReadAllText($"/proc/self/task/{loopThreadId}/schedstat").Split(' ')[0], CultureInfo.InvariantCulture);

    private static Task<int> OnLoopThreadId(ActorSystem system)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        system.Scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, () => done.TrySetResult(OsThread.Current().ThreadId));
        return done.Task;
    }

    /// <summary>`--types`: the runtime's GC AllocationTick events (one per ~100 KB allocated) on the loop thread, by type:
    /// a sample of what the loop allocates, proportional to bytes. Enabling the events may change the figures a little.</summary>
    private sealed class AllocationSampler(int loopThreadId) : System.Diagnostics.Tracing.EventListener
    {
        private readonly Dictionary<string, int> _ticks = new();

        protected override void OnEventSourceCreated(System.Diagnostics.Tracing.EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
                EnableEvents(source, System.Diagnostics.Tracing.EventLevel.Verbose, (System.Diagnostics.Tracing.EventKeywords)0x1);
        }

        protected override void OnEventWritten(System.Diagnostics.Tracing.EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || e.OSThreadId != loopThreadId) return;
            int i = e.PayloadNames!.IndexOf("TypeName");
            var type = i >= 0 ? e.Payload![i] as string ?? "?" : "?";
            lock (_ticks) _ticks[type] = _ticks.GetValueOrDefault(type) + 1;
        }

        public void Print()
        {
            lock (_ticks)
            {
                Console.WriteLine();
                Console.WriteLine("| allocation ticks on the loop (~100 KB each) | type |");
                Console.WriteLine("|---:|---|");
                foreach (var (type, n) in _ticks.OrderByDescending(t => t.Value))
                    Console.WriteLine($"| {n} | {type} |");
            }
        }
    }

    /// <summary>Written on the loop (by the probe), read on the loop (by <see cref="OnLoop"/>) or, for the status, polled.</summary>
    private sealed class WriteCounter
    {
        public long Count;
        public volatile ClockStatus LastStatus = ClockStatus.Unknown;
        public long NotSynchronized;
    }

    private sealed class WriteProbe : ReceiveActor
    {
        public WriteProbe(WriteCounter counter)
        {
            Receive<SegmentWritten>(w =>
            {
                counter.Count++;
                if (w.Status != ClockStatus.Synchronized) Interlocked.Increment(ref counter.NotSynchronized);
                counter.LastStatus = w.Status;
            });
        }

        protected override void PreStart() => Context.System.EventStream.Subscribe<SegmentWritten>(Self);
    }
}
