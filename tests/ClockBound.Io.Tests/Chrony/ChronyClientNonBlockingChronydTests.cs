using System.Diagnostics;
using System.Net;
using ClockBound.Io.Chrony;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Chrony;

/// <summary><see cref="ChronyClient.SendTracking"/> / <see cref="ChronyClient.TryReceiveTracking"/> against a real chronyd
/// synchronised to a loopback chronyd server, looked at the way the daemon's poller does: again and again until the reply
/// is there.</summary>
public sealed class ChronyClientNonBlockingChronydTests(SynchronisedChronyd fixture) : IClassFixture<SynchronisedChronyd>
{
    /// <summary>chronyd answers within a millisecond; this only bounds the wait on a loaded machine.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    private ChronydSandbox Sandbox => fixture.Sandbox;

    [Fact]
    public async Task SendTracking_then_TryReceiveTracking_must_return_chronyds_tracking_request_after_request()
    {
        await Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        using var client = ChronyClient.Connect(Sandbox.ClientSocketPath);

        for (var request = 0; request < 3; request++) // each reply received frees the client for the next request
        {
            var sequence = client.SendTracking();
            var reply = await ReplyAsync(client, sequence);

            Assert.Equal(0x7F000001u, reply.ReferenceId);
            Assert.Equal(IPAddress.Loopback, reply.ReferenceAddress);
            Assert.Equal(9, reply.Stratum); // the server's local stratum 8, plus one
            Assert.Equal(LeapStatus.Normal, reply.LeapStatus);
            Assert.True(reply.LastUpdateInterval > 0, $"last update interval {reply.LastUpdateInterval}");
        }

        // The asynchronous request still works on the client's non-blocking socket.
        Assert.Equal(9, (await client.GetTrackingAsync()).Stratum);
    }

    /// <summary>Looks for the reply every millisecond, as the poller's timer does, until it is there; fails after <see cref="Patience"/>.</summary>
    private static async Task<TrackingReply> ReplyAsync(ChronyClient client, uint sequence)
    {
        var clock = Stopwatch.StartNew();
        TrackingReply reply;
        while (!client.TryReceiveTracking(sequence, out reply))
        {
            if (clock.Elapsed > Patience)
                throw new TimeoutException($"chronyd at {client.ChronySocketPath} did not answer tracking request {sequence:x8} within {Patience}");
            await Task.Delay(TimeSpan.FromMilliseconds(1));
        }
        return reply;
    }
}
