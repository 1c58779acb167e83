using ClockBound.Io.Chrony;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>
/// The client against a real chronyd whose only source is a reference clock (as a PHC-only chronyd): what the reset
/// after a disruption gets from it (daemon-behaviour.md, "Disruption handling": reset sources succeeds, burst is refused
/// with "no such source" every time).
/// </summary>
public sealed class ChronydRefclockOnlyTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private ChronydSandbox _chronyd = null!;

    public async Task InitializeAsync() => _chronyd = await ChronydSandbox.StartRefclockOnlyAsync();

    public async Task DisposeAsync() => await _chronyd.DisposeAsync();

    [Fact]
    public async Task A_refclock_only_chronyd_must_accept_reset_sources_and_refuse_every_burst_as_NoSuchSource()
    {
        // The premise, as chronyc sees it: one source, and it is a reference clock (mode '#'), not an NTP server.
        var sources = (await _chronyd.RunChronycAsync("-c", "sources")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("#,", Assert.Single(sources));
        using var client = ChronyClient.Connect(_chronyd.ClientSocketPath, timeout: Timeout);

        for (var round = 0; round < 2; round++)
        {
            await client.ResetSourcesAsync();

            var e = await Assert.ThrowsAsync<ChronyException>(() => client.BurstAsync(4, 8));

            Assert.Equal(ChronyErrorKind.NoSuchSource, e.Kind);
            Assert.Contains(_chronyd.ClientSocketPath, e.Message);
        }
    }
}
