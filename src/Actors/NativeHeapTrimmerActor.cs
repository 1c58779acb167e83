using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ClockBound.Io;

namespace ClockBound.Actors;

/// <summary>
/// Hands the C heap's free pages back to the kernel (<see cref="NativeHeap.Trim"/>) once start-up is over and then
/// every <see cref="TrimInterval"/>, so that the daemon's resident memory follows what it uses rather than the
/// high-water mark of each malloc arena (see <see cref="NativeHeap"/>).
/// </summary>
/// <remarks>
/// Measured on a daemon five minutes into a fault campaign (bench/soak): one trim took its private dirty memory from
/// 36.7 to 26.2 MB (the main arena 10.0 → 1.8 MB, freed at start-up; the thread arenas −2.3 MB, JIT scratch memory).
/// Not every daemon has that much to give back: in an idle one against a chronyd that answers, the main arena's 9.7 MB
/// are in use (docs/performance-notes.md, "Round 6").
/// The trim runs as a task piped back to the actor, like the daemon's I/O: it locks each arena in turn and must not
/// hold up the actors' thread. One trim at a time; the next is scheduled when one completes.
/// </remarks>
public sealed class NativeHeapTrimmerActor : ReceiveActor, IWithTimers
{
    /// <summary>Name of the actor under the root.</summary>
    public const string Name = "native-heap-trimmer";

    /// <summary>30 s: by then start-up (configuration, assembly loading, the actor system, the first chronyd polls) has
    /// freed what it borrowed (up to 8 MB of the main arena, measured).</summary>
    public static readonly TimeSpan FirstTrimDelay = TimeSpan.FromSeconds(30);

    /// <summary>1 min: what the process frees between two trims stays resident only that long, and a trim (0.3 ms; 3–4 ms the
    /// first time, with start-up's 8 MB) once a minute is far below the daemon's idle cost (0.02 s of CPU a minute at its
    /// slowest rates).</summary>
    public static readonly TimeSpan TrimInterval = TimeSpan.FromMinutes(1);

    private const string TrimTimerKey = "trim";

    private readonly Func<NativeHeapTrim> _trim;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private long _trimStartedAt;

    public NativeHeapTrimmerActor(Func<NativeHeapTrim>? trim = null)
    {
        _trim = trim ?? NativeHeap.Trim;
        Receive<Trim>(_ => StartTrim());
        Receive<Trimmed>(OnTrimmed);
        Receive<TrimFailed>(OnTrimFailed);
    }

    /// <summary>Props; <paramref name="trim"/> replaces <see cref="NativeHeap.Trim"/>.</summary>
    public static Props Props(Func<NativeHeapTrim>? trim = null) =>
        Akka.Actor.Props.Create(() => new NativeHeapTrimmerActor(trim));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart() => Timers.StartSingleTimer(TrimTimerKey, Trim.Instance, FirstTrimDelay);

    private void StartTrim()
    {
        _trimStartedAt = Stopwatch.GetTimestamp();
        Task.Run(_trim).PipeTo(Self, success: result => new Trimmed(result), failure: ex => new TrimFailed(ex));
    }

    private void OnTrimmed(Trimmed m)
    {
        if (m.Result == NativeHeapTrim.Unsupported)
        {
            _log.Info("The C library has no malloc_trim: the native heap is not trimmed");
            return;
        }

        _log.Debug("Native heap trimmed in {0:0.000} ms ({1})", Stopwatch.GetElapsedTime(_trimStartedAt).TotalMilliseconds, m.Result);
        Timers.StartSingleTimer(TrimTimerKey, Trim.Instance, TrimInterval);
    }

    private void OnTrimFailed(TrimFailed m)
    {
        _log.Warning("Trimming the native heap failed: {0}", PipedFailure.Cause(m.Cause).Message);
        Timers.StartSingleTimer(TrimTimerKey, Trim.Instance, TrimInterval);
    }

    private sealed class Trim
    {
        public static readonly Trim Instance = new();
        private Trim() { }
    }

    private sealed record Trimmed(NativeHeapTrim Result);

    private sealed record TrimFailed(Exception Cause);
}
