using System.Diagnostics;
using System.Net;
using ClockBound.Io.Chrony;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>The client against a real chronyd synchronised to a loopback chronyd server.</summary>
public sealed class ChronydTrackingTests(SynchronisedChronyd fixture, ITestOutputHelper output) : IClassFixture<SynchronisedChronyd>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private ChronydSandbox Sandbox => fixture.Sandbox;

    [Fact]
    public async Task Tracking_must_decode_to_what_chronyc_prints()
    {
        await Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        using var client = ChronyClient.Connect(Sandbox.ClientSocketPath, timeout: Timeout);

        // chronyd updates every 0.25 s here: retry until chronyc's read and one of ours see the same update, so that
        // every field except the time-dependent ones must agree to chronyc's printed precision.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var stopwatch = Stopwatch.StartNew();
            var before = await client.GetTrackingAsync();
            var chronyc = await Sandbox.Client.GetTrackingAsync();
            var after = await client.GetTrackingAsync();
            var elapsed = stopwatch.Elapsed.TotalSeconds;

            var ours = SameUpdate(before, chronyc) ? before : SameUpdate(after, chronyc) ? after : (TrackingReply?)null;
            if (ours is not { } t) continue;
            output.WriteLine($"ours {t}\nchronyc {chronyc}\nelapsed {elapsed:F6} s");

            Assert.Equal(chronyc.ReferenceId, t.ReferenceId);
            Assert.Equal(0x7F000001u, t.ReferenceId);
            Assert.Equal(IPAddress.Parse(chronyc.ReferenceName), t.ReferenceAddress);
            Assert.Equal(chronyc.Stratum, t.Stratum);
            Assert.Equal(9, t.Stratum); // the server's local stratum 8, plus one
            Assert.Equal(chronyc.LeapStatus, t.LeapStatus.ToString());
            // chronyc prints offsets and delays with 9 decimals (±0.5 ns), frequencies with 3 (±0.0005 ppm), the interval with 1.
            AssertClose("last offset", chronyc.LastOffset, t.LastOffset, 0.5e-9);
            AssertClose("RMS offset", chronyc.RmsOffset, t.RmsOffset, 0.5e-9);
            AssertClose("root delay", chronyc.RootDelay, t.RootDelay, 0.5e-9);
            AssertClose("frequency", chronyc.Frequency, t.Frequency, 0.0005);
            AssertClose("residual frequency", chronyc.ResidualFrequency, t.ResidualFrequency, 0.0005);
            AssertClose("skew", chronyc.Skew, t.Skew, 0.0005);
            AssertClose("update interval", chronyc.LastUpdateInterval, t.LastUpdateInterval, 0.05);
            // Not compared: the current correction, which chronyd recomputes for the moment of each request (it moved by
            // about 0.5 µs between reads here) with no documented bound on its rate.
            // Root dispersion grows between the reads by at most elapsed × (skew + chronyd's 1 ppm maximum clock error).
            AssertClose("root dispersion", chronyc.RootDispersion, t.RootDispersion, 0.5e-9 + elapsed * (t.Skew + 1) * 1e-6);
            return;
        }
        Assert.Fail("in 20 attempts chronyc never reported the same reference time as one of our two surrounding reads");
    }

    private static bool SameUpdate(TrackingReply ours, ChronydTracking chronyc) =>
        decimal.Parse(ours.ReferenceTime.ToString(), System.Globalization.CultureInfo.InvariantCulture) == chronyc.ReferenceTime;

    [Fact]
    public async Task Reference_time_must_keep_advancing()
    {
        await Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        using var client = ChronyClient.Connect(Sandbox.ClientSocketPath, timeout: Timeout);
        var first = await client.GetTrackingAsync();

        // Not strictly monotonic: right after a burst chronyd was seen to step its reference time back by up to 0.25 s
        // (an update from an earlier sample of the burst), so wait for a later one rather than for any change.
        var stopwatch = Stopwatch.StartNew();
        var later = first;
        while (later.ReferenceTime <= first.ReferenceTime && stopwatch.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
            later = await client.GetTrackingAsync();
        }

        Assert.True(later.ReferenceTime > first.ReferenceTime, $"reference time went from {first} to {later}");
        Assert.Equal(LeapStatus.Normal, later.LeapStatus);
        Assert.True(later.LastUpdateInterval > 0);
    }

    [Fact]
    public async Task Reset_sources_and_burst_must_resynchronise_the_client_from_samples_taken_after_the_reset()
    {
        await Sandbox.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout);
        using var client = ChronyClient.Connect(Sandbox.ClientSocketPath, timeout: Timeout);

        var resetAt = Clocks.Realtime();
        await client.ResetSourcesAsync();
        var afterReset = await client.GetTrackingAsync();
        await client.BurstAsync(4, 8);

        // The reset forgets every sample: unsynchronised until new ones arrive.
        Assert.Equal(LeapStatus.Unsynchronised, afterReset.LeapStatus);
        // Then the client synchronises again from samples taken after the reset: a tracking reply requested after the
        // burst says so, with a reference time after the reset.
        var stopwatch = Stopwatch.StartNew();
        var resynchronised = await client.GetTrackingAsync();
        while (!(resynchronised.LeapStatus == LeapStatus.Normal && resynchronised.ReferenceTime > resetAt)
               && stopwatch.Elapsed < SynchronisedChronyd.SyncTimeout)
        {
            await Task.Delay(50); // chronyd's own pace: polling its state, not waiting for a message
            resynchronised = await client.GetTrackingAsync();
        }
        Assert.Equal(LeapStatus.Normal, resynchronised.LeapStatus);
        Assert.True(resynchronised.ReferenceTime > resetAt, $"reference time {resynchronised.ReferenceTime} is not after the reset at {resetAt}");
    }

    [Fact]
    public async Task Burst_without_NTP_sources_must_fail_as_NoSuchSource()
    {
        using var server = ChronyClient.Connect(Sandbox.ServerSocketPath, timeout: Timeout); // local stratum 8 only

        var e = await Assert.ThrowsAsync<ChronyException>(() => server.BurstAsync(4, 8));

        Assert.Equal(ChronyErrorKind.NoSuchSource, e.Kind);
        Assert.Contains(Sandbox.ServerSocketPath, e.Message);
    }

    [Fact]
    public void Socket_without_permission_must_fail_as_PermissionDenied_naming_path_and_user()
    {
        using var ownDirectory = new TempDirectory();
        File.SetUnixFileMode(ownDirectory.Path, (UnixFileMode)0b111_111_111); // nobody may create its own socket here

        var e = ThreadCredentials.RunAsNobody(() =>
            Assert.Throws<ChronyException>(() => ChronyClient.Connect(Sandbox.ClientSocketPath, ownDirectory.Path)));

        Assert.Equal(ChronyErrorKind.PermissionDenied, e.Kind);
        Assert.Contains(Sandbox.ClientSocketPath, e.Message);
        Assert.Contains("user nobody", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(ownDirectory.Path)); // its own socket removed again
    }

    private static void AssertClose(string field, double expected, double actual, double tolerance) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * (1 + 1e-9) + 1e-15,
            $"{field}: chronyc {expected}, ours {actual}, difference {Math.Abs(expected - actual)} > {tolerance}");
}
