using ClockBound.Io.Chrony;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>The client while the real chronyd loses its synchronisation or restarts. Each test has its own chronyd pair
/// because it changes that pair's state.</summary>
public sealed class ChronydStateChangeTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly SynchronisedChronyd _pair = new();

    public Task InitializeAsync() => _pair.InitializeAsync();

    public Task DisposeAsync() => _pair.DisposeAsync();

    [Fact]
    public async Task Unsynchronised_chronyd_must_report_leap_3_and_synchronise_again_when_online()
    {
        using var client = ChronyClient.Connect(_pair.Sandbox.ClientSocketPath, timeout: Timeout);
        Assert.Equal(LeapStatus.Normal, (await client.GetTrackingAsync()).LeapStatus);

        await _pair.Sandbox.OfflineAndResetAsync();
        var offline = await client.GetTrackingAsync(); // the reset takes effect at once

        Assert.Equal(LeapStatus.Unsynchronised, offline.LeapStatus);
        Assert.Equal(0u, offline.ReferenceId);
        Assert.Null(offline.ReferenceAddress);
        Assert.Equal(1.0, offline.RootDelay);
        Assert.Equal(1.0, offline.RootDispersion);

        await _pair.Sandbox.OnlineAsync();
        var online = await PollAsync(client, t => t.LeapStatus == LeapStatus.Normal && t.ReferenceId == 0x7F000001);
        Assert.Equal(9, online.Stratum);
    }

    [Fact]
    public async Task Client_must_report_a_stopped_chronyd_as_SocketMissing_and_reach_it_again_after_restart()
    {
        using var client = ChronyClient.Connect(_pair.Sandbox.ClientSocketPath, timeout: Timeout);
        await client.GetTrackingAsync();

        _pair.Sandbox.StopClient();
        var e = await Assert.ThrowsAsync<ChronyException>(() => client.GetTrackingAsync());
        Assert.Equal(ChronyErrorKind.SocketMissing, e.Kind);
        Assert.Contains(_pair.Sandbox.ClientSocketPath, e.Message);

        await _pair.Sandbox.StartClientAgainAsync();
        var restarted = await client.GetTrackingAsync(); // the same client, a new chronyd socket
        Assert.True(File.Exists(client.SocketPath));
        Assert.Equal(LeapStatus.Normal, (await PollAsync(client, t => t.LeapStatus == LeapStatus.Normal)).LeapStatus);
        Assert.True(restarted.Stratum is 0 or 9);
    }

    private static async Task<TrackingReply> PollAsync(ChronyClient client, Func<TrackingReply, bool> condition)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var tracking = await client.GetTrackingAsync();
            if (condition(tracking)) return tracking;
            if (stopwatch.Elapsed > Deadline) throw new TimeoutException($"chronyd still reports {tracking} after {Deadline}");
            await Task.Delay(50);
        }
    }
}
