using System.Buffers.Binary;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ClockBound.Io;
using ClockBound.Io.Chrony;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

public sealed class ChronyPollerActorTests : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private const ushort StatusFailed = 1;
    private const ushort StatusNoSuchSource = 4;

    /// <summary>What the poller logs, once, when a burst refused for lack of NTP sources completes the reset.</summary>
    private const string NoNtpSourceLog = "refused the burst for lack of NTP sources";

    private readonly TempDirectory _dir = new("cbpoll");

    private ClockBoundSettings Settings => new()
    {
        ChronySocketPath = _dir.Combine("chronyd.sock"),
        ChronyClientSocketDirectory = _dir.Path,
        ChronyPollInterval = TimeSpan.FromMilliseconds(20),
        // Generous: a test machine under load must not turn a slow reply into a timeout (the timeout test sets its own).
        ChronyTimeout = TimeSpan.FromSeconds(2),
        ResetTries = 5,
        ResetRetryInterval = TimeSpan.FromMilliseconds(5),
        BurstTries = 5,
        BurstRetryInterval = TimeSpan.FromMilliseconds(10),
        ResetCooldown = TimeSpan.FromMilliseconds(200),
    };

    [Fact]
    public void Poller_must_report_tracking_with_as_of_read_before_the_request()
    {
        // The reply takes longer than CLOCK_MONOTONIC_COARSE's tick (1-10 ms): an as_of read after the reply would show.
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath, replyDelay: TimeSpan.FromMilliseconds(30));
        var clockStatus = CreateTestProbe();

        Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));

        var tracked = clockStatus.ExpectMsg<ChronyTracked>(Patience);
        var realtimeAfter = Clocks.Realtime();
        Assert.Equal(0x7F000001u, tracked.Tracking.ReferenceId);
        Assert.Equal(9, tracked.Tracking.Stratum);
        Assert.Equal(LeapStatus.Normal, tracked.Tracking.LeapStatus);
        var requestArrivedAt = chronyd.Requests.First(r => r.Command == ScriptedChronyd.Tracking).ReceivedAt;
        Assert.True(tracked.AsOf <= requestArrivedAt, $"as_of {tracked.AsOf} must be read before the request arrived ({requestArrivedAt})");
        Assert.True(tracked.ReceivedRealtime >= chronyd.ReplySentRealtime.First(), "the realtime stamp must be read when the reply is processed");
        Assert.True(tracked.ReceivedRealtime <= realtimeAfter);
    }

    [Fact]
    public void Poller_must_keep_polling_at_its_period()
    {
        const int Polls = 10;
        // Several ticks of Akka's scheduler (10 ms), so that twice the rate is a rate the scheduler can keep.
        var settings = Settings with { ChronyPollInterval = TimeSpan.FromMilliseconds(50) };
        using var chronyd = ScriptedChronyd.WithStatus(settings.ChronySocketPath);
        var clockStatus = CreateTestProbe();

        Sys.ActorOf(ChronyPollerActor.Props(settings, clockStatus));

        // Counted from the first reply on, so that the start-up (connecting, compiling) does not dilute the rate.
        var first = clockStatus.ExpectMsg<ChronyTracked>(Patience).AsOf;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int requestsBefore = chronyd.CountOf(ScriptedChronyd.Tracking);
        var asOfs = Enumerable.Range(0, Polls).Select(_ => clockStatus.ExpectMsg<ChronyTracked>(Patience).AsOf).Prepend(first).ToList();
        var elapsed = clock.Elapsed;
        int requests = chronyd.CountOf(ScriptedChronyd.Tracking) - requestsBefore;
        Assert.Equal(asOfs.Order(), asOfs);
        // At most one poll per period, with room for late timers and a late stopwatch reading (x1.5) and one request in
        // flight (+1): 10 polls need about 10 periods, and twice the rate (10 polls in about 5 periods) is outside the
        // limit. A slow machine only makes the elapsed time, and with it the limit, larger.
        double limit = elapsed / settings.ChronyPollInterval * 1.5 + 1;
        Assert.True(requests >= Polls && requests <= limit, $"{requests} tracking requests in {elapsed.TotalMilliseconds:F0} ms (at most {limit:F1})");
    }

    [Fact]
    public void Poller_must_never_have_two_polls_in_flight_when_chronyd_is_slower_than_the_period()
    {
        // Replies take 5 poll periods: a poller that scheduled polls by the clock would pile them up.
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath, replyDelay: TimeSpan.FromMilliseconds(100));
        var clockStatus = CreateTestProbe();

        Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));

        for (var i = 0; i < 3; i++) clockStatus.ExpectMsg<ChronyTracked>(Patience);
        Assert.Equal(1, chronyd.MaxOutstanding);
    }

    [Fact]
    public void Poller_must_report_a_missing_socket_and_connect_once_chronyd_is_back()
    {
        var clockStatus = CreateTestProbe();

        Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));

        var failed = clockStatus.ExpectMsg<ChronyPollFailed>(Patience);
        Assert.Equal(ChronyErrorKind.SocketMissing, failed.Kind);
        Assert.Contains(Settings.ChronySocketPath, failed.Reason);
        Assert.True(failed.At <= Clocks.MonotonicCoarse());

        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath); // "chronyd restarted"
        clockStatus.FishForMessage(m => m is ChronyTracked, Patience);
    }

    [Fact]
    public void Poller_must_report_a_poll_that_gets_no_reply_as_a_timeout_and_go_on()
    {
        // The first tracking request goes unanswered, the following ones are answered.
        var settings = Settings with { ChronyTimeout = TimeSpan.FromMilliseconds(300) };
        using var chronyd = ScriptedChronyd.WithStatus(settings.ChronySocketPath, (command, n) => command == ScriptedChronyd.Tracking && n == 0 ? null : 0);
        var clockStatus = CreateTestProbe();

        Sys.ActorOf(ChronyPollerActor.Props(settings, clockStatus));

        var failed = clockStatus.ExpectMsg<ChronyPollFailed>(Patience);
        Assert.Equal(ChronyErrorKind.Timeout, failed.Kind);
        Assert.Equal($"chronyd at {settings.ChronySocketPath} did not answer tracking within 300 ms", failed.Reason);
        clockStatus.ExpectMsg<ChronyTracked>(Patience);
    }

    [Fact]
    public void Reset_must_retry_reset_sources_then_burst_and_report_completion()
    {
        // reset sources fails 3 times, then succeeds; the burst succeeds at once.
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath,
            (command, n) => command == ScriptedChronyd.ResetSources && n < 3 ? StatusFailed : (ushort)0);
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));
        clockStatus.ExpectMsg<ChronyTracked>(Patience);

        poller.Tell(new ResetChrony(1));

        clockStatus.FishForMessage(m => m is ChronyResetCompleted { Epoch: 1 }, Patience);
        Assert.Equal(4, chronyd.CountOf(ScriptedChronyd.ResetSources));
        var burst = Assert.Single(chronyd.Requests, r => r.Command == ScriptedChronyd.Burst).Datagram;
        Assert.Equal(4, BinaryPrimitives.ReadInt32BigEndian(burst.AsSpan(60))); // good samples
        Assert.Equal(8, BinaryPrimitives.ReadInt32BigEndian(burst.AsSpan(64))); // total samples
        var commands = chronyd.Requests.Select(r => r.Command).Where(c => c != ScriptedChronyd.Tracking).ToList();
        Assert.Equal([ScriptedChronyd.ResetSources, ScriptedChronyd.ResetSources, ScriptedChronyd.ResetSources, ScriptedChronyd.ResetSources, ScriptedChronyd.Burst], commands);
    }

    [Fact]
    public void Reset_must_cool_down_and_start_again_from_reset_sources_when_a_phase_exhausts_its_tries()
    {
        // Round 1: reset sources fails ResetTries (2) times → cool-down. Round 2: reset OK, burst fails BurstTries (2) times
        // → cool-down. Round 3: reset OK, burst OK.
        var settings = Settings with { ResetTries = 2, BurstTries = 2 };
        using var chronyd = ScriptedChronyd.WithStatus(settings.ChronySocketPath, (command, n) => command switch
        {
            ScriptedChronyd.ResetSources => n < 2 ? StatusFailed : (ushort)0,
            ScriptedChronyd.Burst => n < 2 ? StatusFailed : (ushort)0,
            _ => 0,
        });
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(settings, clockStatus));
        clockStatus.ExpectMsg<ChronyTracked>(Patience);

        poller.Tell(new ResetChrony(1));

        var trackedDuringReset = 0;
        clockStatus.FishForMessage(m =>
        {
            if (m is ChronyTracked) trackedDuringReset++;
            return m is ChronyResetCompleted;
        }, Patience);
        var commands = chronyd.Requests.Select(r => r.Command).Where(c => c != ScriptedChronyd.Tracking).ToList();
        ushort r = ScriptedChronyd.ResetSources, b = ScriptedChronyd.Burst;
        Assert.Equal([r, r, r, b, b, r, b], commands);
        Assert.True(trackedDuringReset > 0, "polling must go on while the reset sequence runs");
        clockStatus.FishForMessage(m => m is ChronyTracked, Patience); // and after it
    }

    [Fact]
    public void Reset_must_report_completion_once_when_the_same_reset_is_requested_twice()
    {
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath);
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));

        poller.Tell(new ResetChrony(1));
        poller.Tell(new ResetChrony(1));

        clockStatus.FishForMessage(m => m is ChronyResetCompleted { Epoch: 1 }, Patience);
        // The sequence takes a few ms here: a second one would complete within this window.
        var later = clockStatus.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m);
        Assert.Empty(later.OfType<ChronyResetCompleted>());
        var commands = chronyd.Requests.Select(r => r.Command).Where(c => c != ScriptedChronyd.Tracking).ToList();
        Assert.Equal([ScriptedChronyd.ResetSources, ScriptedChronyd.Burst], commands);
    }

    [Fact]
    public void A_newer_reset_requested_while_one_runs_must_start_again_from_reset_sources_and_complete_only_the_newer()
    {
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath);
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));

        // The second disruption arrives while the first reset's first request is (most likely) in flight, or at the latest
        // while its burst is: either way chronyd must drop the samples taken before the second disruption too.
        poller.Tell(new ResetChrony(1));
        poller.Tell(new ResetChrony(2));

        var completed = (ChronyResetCompleted)clockStatus.FishForMessage(m => m is ChronyResetCompleted, Patience);
        Assert.Equal(2, completed.Epoch);
        var later = clockStatus.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => m);
        Assert.Empty(later.OfType<ChronyResetCompleted>());
        var commands = chronyd.Requests.Select(r => r.Command).Where(c => c != ScriptedChronyd.Tracking).ToList();
        Assert.Equal(2, commands.Count(c => c == ScriptedChronyd.ResetSources));
        Assert.Equal(ScriptedChronyd.Burst, commands[^1]);
    }

    // daemon-behaviour.md, "Disruption handling": a chronyd with no NTP source (PHC or other reference clocks only)
    // refuses every burst with status 4; once its sources were reset, that completes the reset.
    [Fact]
    public void Reset_must_complete_when_chronyd_refuses_the_burst_for_lack_of_NTP_sources()
    {
        using var chronyd = ScriptedChronyd.WithStatus(Settings.ChronySocketPath,
            (command, _) => command == ScriptedChronyd.Burst ? StatusNoSuchSource : (ushort)0);
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));
        clockStatus.ExpectMsg<ChronyTracked>(Patience);

        EventFilter.Info(contains: NoNtpSourceLog).ExpectOne(Patience, () =>
        {
            poller.Tell(new ResetChrony(1));
            clockStatus.FishForMessage(m => m is ChronyResetCompleted, Patience);
        });

        // One burst: its refusal is the answer, not a failure to retry.
        var commands = chronyd.Requests.Select(r => r.Command).Where(c => c != ScriptedChronyd.Tracking).ToList();
        Assert.Equal([ScriptedChronyd.ResetSources, ScriptedChronyd.Burst], commands);
    }

    // Only "no such source" in answer to the burst, after a successful reset sources, completes the reset; every other
    // refusal is retried, then the sequence starts again after the cool-down. Waits for that second round: a completion
    // reported for the first would have arrived before it.
    [Theory]
    [InlineData(0, StatusFailed)]
    [InlineData(0, 2)] // unauthorised
    [InlineData(0, 3)] // invalid command
    [InlineData(0, 19)] // bad packet length
    [InlineData(StatusNoSuchSource, 0)] // reset sources refused with "no such source": the burst is never reached
    public void Reset_must_not_complete_when_reset_sources_or_burst_fails_otherwise(ushort resetStatus, ushort burstStatus)
    {
        var settings = Settings with { ResetTries = 2, BurstTries = 2 };
        using var chronyd = ScriptedChronyd.WithStatus(settings.ChronySocketPath, (command, _) => command switch
        {
            ScriptedChronyd.ResetSources => resetStatus,
            ScriptedChronyd.Burst => burstStatus,
            _ => 0,
        });
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(settings, clockStatus));
        clockStatus.ExpectMsg<ChronyTracked>(Patience);

        poller.Tell(new ResetChrony(1));

        int firstRoundResets = resetStatus == 0 ? 1 : settings.ResetTries;
        clockStatus.FishForMessage(m =>
        {
            Assert.IsNotType<ChronyResetCompleted>(m);
            return chronyd.CountOf(ScriptedChronyd.ResetSources) > firstRoundResets;
        }, Patience);
        if (resetStatus == 0)
            Assert.True(chronyd.CountOf(ScriptedChronyd.Burst) >= settings.BurstTries);
        else
            Assert.Equal(0, chronyd.CountOf(ScriptedChronyd.Burst));
    }

    [Fact]
    public void After_a_reset_the_poller_must_poll_fast_until_chronyd_is_synchronised_again_then_at_its_interval()
    {
        // A 1 s interval: the fast polling after the reset (every 10 ms) and the configured rate cannot be confused.
        var settings = Settings with { ChronyPollInterval = TimeSpan.FromSeconds(1) };
        const int UnsynchronisedReplies = 5;
        int trackingAfterReset = -1;
        using var chronyd = new ScriptedChronyd(settings.ChronySocketPath, request =>
        {
            if (request.Command != ScriptedChronyd.Tracking) return [ChronyReplies.Status(request)];
            // chronyd after "reset sources": unsynchronised for a few replies, then synchronised again.
            bool resetDone = Volatile.Read(ref trackingAfterReset) >= 0;
            int n = resetDone ? Interlocked.Increment(ref trackingAfterReset) : 0;
            return [ChronyReplies.SynchronisedTracking(request, leap: (ushort)(resetDone && n <= UnsynchronisedReplies ? 3 : 0))];
        });
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(settings, clockStatus));
        clockStatus.ExpectMsg<ChronyTracked>(Patience);

        Volatile.Write(ref trackingAfterReset, 0);
        poller.Tell(new ResetChrony(1));
        clockStatus.FishForMessage(m => m is ChronyResetCompleted, Patience);
        // The unsynchronised replies and the first synchronised one come at the fast rate: well within one configured
        // interval, however slow the machine, they could not come at 1 s.
        var received = new List<LeapStatus>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (received.Count == 0 || received[^1] == LeapStatus.Unsynchronised)
            received.Add(clockStatus.ExpectMsg<ChronyTracked>(Patience).Tracking.LeapStatus);
        var elapsed = clock.Elapsed;
        Assert.True(received.Count >= UnsynchronisedReplies, $"replies after the reset: {string.Join(", ", received)}");
        Assert.True(elapsed < settings.ChronyPollInterval * 0.9,
            $"{received.Count} polls took {elapsed.TotalMilliseconds:F0} ms: not the fast rate");

        // Synchronised again: back to the configured interval (no further poll within most of it).
        clockStatus.ExpectNoMsg(settings.ChronyPollInterval * 0.8);
        Assert.Equal(LeapStatus.Normal, clockStatus.ExpectMsg<ChronyTracked>(Patience).Tracking.LeapStatus);
    }

    // The same against a real chronyd whose only source is a reference clock (ChronyClient's view of it:
    // ChronydRefclockOnlyTests).
    [Fact]
    public async Task Reset_must_complete_against_a_real_chronyd_whose_only_source_is_a_reference_clock()
    {
        await using var chronyd = await ChronydSandbox.StartRefclockOnlyAsync();
        var settings = Settings with { ChronySocketPath = chronyd.ClientSocketPath };
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(settings, clockStatus));
        Assert.Equal(LeapStatus.Unsynchronised, clockStatus.ExpectMsg<ChronyTracked>(Patience).Tracking.LeapStatus);

        EventFilter.Info(contains: "chronyd reset its sources").ExpectOne(Patience, () =>
            EventFilter.Info(contains: NoNtpSourceLog).ExpectOne(Patience, () =>
            {
                poller.Tell(new ResetChrony(1));
                clockStatus.FishForMessage(m => m is ChronyResetCompleted, Patience);
            }));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _dir.Dispose();
    }
}
