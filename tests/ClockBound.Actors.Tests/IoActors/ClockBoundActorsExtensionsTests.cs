using Akka.Hosting;
using ClockBound.Actors.Hosting;
using ClockBound.Actors.StateMachine;
using ClockBound.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>WithClockBoundActors in a real generic host, as the daemon runs it.</summary>
public sealed class ClockBoundActorsExtensionsTests(SynchronisedChronyd chronyd) : IDisposable, IClassFixture<SynchronisedChronyd>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _dir = new("cbhost");

    [Fact]
    public async Task WithClockBoundActors_must_start_the_root_and_register_every_actor()
    {
        var settings = new ClockBoundSettings
        {
            ShmPath = _dir.Combine("shm0"),
            ChronySocketPath = chronyd.Sandbox.ClientSocketPath, // a real, synchronised chronyd pair (-x)
            ClockDisruptionSupportEnabled = false,
        };
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("clockbound", builder => builder.WithClockBoundActors(settings, PreviousRun.Unusable("no segment"))))
            .Build();
        using var timeout = new CancellationTokenSource(Patience);

        await host.StartAsync(timeout.Token);
        try
        {
            // Registered by the time the host has started: no waiting on the registry.
            var registry = host.Services.GetRequiredService<ActorRegistry>();
            Assert.Equal("/user/clockbound", registry.Get<ClockBoundActorKey>().Path.ToStringWithoutAddress());
            Assert.Equal("/user/clockbound/clock-status", registry.Get<ClockStatusActorKey>().Path.ToStringWithoutAddress());
            Assert.Equal("/user/clockbound/chrony-poller", registry.Get<ChronyPollerActorKey>().Path.ToStringWithoutAddress());
            Assert.Equal("/user/clockbound/segment-writer", registry.Get<SegmentWriterActorKey>().Path.ToStringWithoutAddress());
            Assert.Equal("/user/clockbound/signal-listener", registry.Get<SignalListenerActorKey>().Path.ToStringWithoutAddress());
            Assert.False(registry.TryGet<VmClockWatcherActorKey>(out _));
            // The whole pipeline runs: chronyd's tracking reaches the segment as Synchronized.
            Assert.True(await EventuallyAsync(() => RawSegment.TryRead(settings.ShmPath)?.ClockStatus == RawSegment.Synchronized, timeout.Token),
                $"the segment {settings.ShmPath} never said Synchronized");
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition, CancellationToken token)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        while (!condition())
        {
            if (!await timer.WaitForNextTickAsync(token)) return false;
        }
        return true;
    }

    public void Dispose() => _dir.Dispose();
}
