using System.Net;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using ClockBound.Io.Chrony;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>
/// The chrony poller's success paths against a real, synchronised chronyd pair (always <c>-x</c>): tracking as chronyd
/// reports it, a real restart of chronyd, and a real reset and burst. The scripted fake covers what a real chronyd cannot
/// be made to do (delays, refusals, lost replies).
/// </summary>
public sealed class ChronyPollerRealChronydSpecs(SynchronisedChronyd chronyd) : TestKit, IClassFixture<SynchronisedChronyd>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>The daemon's defaults against the pair's client (its own client socket next to chronyd's, as chronyc's).</summary>
    private ClockBoundSettings Settings => new() { ChronySocketPath = chronyd.Sandbox.ClientSocketPath };

    [Fact]
    public async Task Poller_must_report_chronyds_own_tracking_synchronised_to_its_source()
    {
        await chronyd.Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        var clockStatus = CreateTestProbe();

        Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));

        var tracked = clockStatus.ExpectMsg<ChronyTracked>(Patience);
        Assert.Equal(IPAddress.Loopback, tracked.Tracking.ReferenceAddress);
        Assert.Equal(LeapStatus.Normal, tracked.Tracking.LeapStatus);
        Assert.Equal(9, tracked.Tracking.Stratum); // the sandbox's server is "local stratum 8"
        Assert.InRange(tracked.Tracking.RootDelay, 0, 0.01); // loopback
    }

    [Fact]
    public async Task Poller_must_report_failures_while_chronyd_is_down_and_tracking_again_once_it_restarted()
    {
        await chronyd.Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        var clockStatus = CreateTestProbe();
        Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));
        clockStatus.ExpectMsg<ChronyTracked>(Patience);

        chronyd.Sandbox.StopClient();
        var failed = (ChronyPollFailed)clockStatus.FishForMessage(m => m is ChronyPollFailed, Patience);
        Assert.Contains(chronyd.Sandbox.ClientSocketPath, failed.Reason);

        await chronyd.Sandbox.StartClientAgainAsync();
        clockStatus.FishForMessage(m => m is ChronyTracked, Patience);
        await chronyd.Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout); // as found, for the next spec
    }

    [Fact]
    public async Task Reset_must_make_the_real_chronyd_drop_its_samples_and_report_completion()
    {
        await chronyd.Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        int resetsBefore = ChronydProcess.ResetsIn(chronyd.Sandbox.Client.ReadLog());
        var clockStatus = CreateTestProbe();
        var poller = Sys.ActorOf(ChronyPollerActor.Props(Settings, clockStatus));

        poller.Tell(new ResetChrony(7));

        clockStatus.FishForMessage(m => m is ChronyResetCompleted { Epoch: 7 }, Patience);
        Assert.True(ChronydProcess.ResetsIn(chronyd.Sandbox.Client.ReadLog()) > resetsBefore, chronyd.Sandbox.Client.ReadLog());
        // After the burst chronyd synchronises again from samples taken after the reset.
        await chronyd.Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
    }
}
