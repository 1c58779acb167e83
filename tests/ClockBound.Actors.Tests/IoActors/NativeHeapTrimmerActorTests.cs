using Akka.Actor;
using Akka.TestKit;
using ClockBound.Actors.Tests.Scenarios;
using ClockBound.Io;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>The trimmer in virtual time, with a probe in the C library's place (the real trim: NativeHeapSpecs).</summary>
public sealed class NativeHeapTrimmerActorTests(ITestOutputHelper output)
    : Akka.TestKit.Xunit2.TestKit(ClockStatusActorSpec.VirtualTimeConfig("akka.loglevel = DEBUG"), output: output)
{
    /// <summary>Long enough for a trim that was going to start to show up; only used to assert silence.</summary>
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(200);

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private TestScheduler VirtualScheduler => (TestScheduler)Sys.Scheduler;

    private sealed record TrimCalled;

    /// <summary>Starts the trimmer with <paramref name="trim"/> in malloc_trim's place; returns once its PreStart has run
    /// (its first timer exists in virtual time).</summary>
    private void StartTrimmer(Func<NativeHeapTrim> trim)
    {
        var trimmer = Sys.ActorOf(NativeHeapTrimmerActor.Props(trim));
        var identify = CreateTestProbe();
        trimmer.Tell(new Identify(null), identify);
        identify.ExpectMsg<ActorIdentity>();
    }

    private Func<NativeHeapTrim> Reporting(TestProbe libc, NativeHeapTrim result) => () =>
    {
        libc.Ref.Tell(new TrimCalled());
        return result;
    };

    [Fact]
    public void Trimmer_must_trim_once_start_up_is_over_then_every_interval()
    {
        var libc = CreateTestProbe("libc");
        StartTrimmer(Reporting(libc, NativeHeapTrim.Released));

        VirtualScheduler.Advance(NativeHeapTrimmerActor.FirstTrimDelay - Tick);
        libc.ExpectNoMsg(Quiet);
        EventFilter.Debug(contains: "Native heap trimmed").ExpectOne(() => VirtualScheduler.Advance(Tick));
        libc.ExpectMsg<TrimCalled>();

        for (int i = 0; i < 3; i++)
        {
            VirtualScheduler.Advance(NativeHeapTrimmerActor.TrimInterval - Tick);
            libc.ExpectNoMsg(Quiet);
            EventFilter.Debug(contains: "Native heap trimmed").ExpectOne(() => VirtualScheduler.Advance(Tick));
            libc.ExpectMsg<TrimCalled>();
        }
    }

    [Fact]
    public void Trimmer_must_keep_trimming_when_there_was_nothing_to_release()
    {
        var libc = CreateTestProbe("libc");
        StartTrimmer(Reporting(libc, NativeHeapTrim.NothingToRelease));

        EventFilter.Debug(contains: "NothingToRelease").ExpectOne(() => VirtualScheduler.Advance(NativeHeapTrimmerActor.FirstTrimDelay));
        libc.ExpectMsg<TrimCalled>();
        EventFilter.Debug(contains: "NothingToRelease").ExpectOne(() => VirtualScheduler.Advance(NativeHeapTrimmerActor.TrimInterval));
        libc.ExpectMsg<TrimCalled>();
    }

    [Fact]
    public void Trimmer_must_say_so_once_and_stop_when_the_C_library_has_no_malloc_trim()
    {
        var libc = CreateTestProbe("libc");
        StartTrimmer(Reporting(libc, NativeHeapTrim.Unsupported));

        EventFilter.Info(contains: "no malloc_trim").ExpectOne(() => VirtualScheduler.Advance(NativeHeapTrimmerActor.FirstTrimDelay));
        libc.ExpectMsg<TrimCalled>();

        VirtualScheduler.Advance(10 * NativeHeapTrimmerActor.TrimInterval);
        libc.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Trimmer_must_try_again_an_interval_after_a_failed_trim()
    {
        var libc = CreateTestProbe("libc");
        int calls = 0;
        StartTrimmer(() =>
        {
            libc.Ref.Tell(new TrimCalled());
            return ++calls == 1 ? throw new InvalidOperationException("arena corrupted") : NativeHeapTrim.Released;
        });

        EventFilter.Warning(contains: "arena corrupted").ExpectOne(() => VirtualScheduler.Advance(NativeHeapTrimmerActor.FirstTrimDelay));
        libc.ExpectMsg<TrimCalled>();
        EventFilter.Debug(contains: "Native heap trimmed").ExpectOne(() => VirtualScheduler.Advance(NativeHeapTrimmerActor.TrimInterval));
        libc.ExpectMsg<TrimCalled>();
    }
}
