using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using ClockBound.Actors;
using ClockBound.Actors.Systemd;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.Io.Systemd;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests;

/// <summary>sd_notify against a fake NOTIFY_SOCKET: a real Unix datagram socket bound by the test.</summary>
public sealed class SystemdNotifySpecs : Akka.TestKit.Xunit2.TestKit, IDisposable
{
    private readonly TempDirectory _dir = new("cb-notify");
    private readonly Socket _systemd;
    private readonly string _socketPath;

    public SystemdNotifySpecs()
    {
        _socketPath = _dir.Combine("notify.sock");
        _systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _systemd.Bind(new UnixDomainSocketEndPoint(_socketPath));
    }

    void IDisposable.Dispose()
    {
        _systemd.Dispose();
        _dir.Dispose();
    }

    private SystemdNotifier Notifier(string? watchdogUsec = null, string? watchdogPid = null) =>
        SystemdNotifier.FromEnvironment(name => name switch
        {
            "NOTIFY_SOCKET" => _socketPath,
            "WATCHDOG_USEC" => watchdogUsec,
            "WATCHDOG_PID" => watchdogPid,
            _ => null,
        })!;

    private async Task<string> ReceiveAsync(TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        int n = await _systemd.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    [Fact]
    public void Notifier_must_be_absent_without_NOTIFY_SOCKET()
    {
        Assert.Null(SystemdNotifier.FromEnvironment(_ => null));
        Assert.Null(SystemdNotifier.FromEnvironment(name => name == "NOTIFY_SOCKET" ? "relative/path" : null));
    }

    [Fact]
    public void Watchdog_must_be_ignored_when_meant_for_another_process()
    {
        using var notifier = Notifier(watchdogUsec: "2000000", watchdogPid: "1");
        Assert.Null(notifier.WatchdogInterval);
        using var ours = Notifier(watchdogUsec: "2000000", watchdogPid: Environment.ProcessId.ToString());
        Assert.Equal(TimeSpan.FromSeconds(2), ours.WatchdogInterval);
    }

    [Fact]
    public async Task Notifier_actor_must_send_READY_only_after_the_first_segment_write()
    {
        using var notifier = Notifier();
        var actor = Sys.ActorOf(SystemdNotifierActor.Props(notifier), "systemd-notifier");
        // Subscription happens in PreStart; an Identify round trip guarantees it ran.
        await actor.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(3));
        Assert.Equal(0, _systemd.Available);

        Sys.EventStream.Publish(new SegmentWritten(2, ClockStatus.Synchronized, Clocks.MonotonicCoarse()));

        string message = await ReceiveAsync(TimeSpan.FromSeconds(5));
        Assert.StartsWith("READY=1\n", message);
        Assert.Contains("Synchronized", message);

        // A second write does not repeat READY.
        Sys.EventStream.Publish(new SegmentWritten(4, ClockStatus.Synchronized, Clocks.MonotonicCoarse()));
        await actor.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(3));
        Assert.Equal(0, _systemd.Available);
    }

    [Fact]
    public async Task Notifier_actor_must_ping_the_watchdog_only_while_segment_writes_keep_coming()
    {
        // A controllable monotonic clock: the actor judges liveness by the time since the last write.
        long nowNs = Clocks.MonotonicCoarse().TotalNanoseconds;
        Timespec Now() => Timespec.FromNanoseconds(Interlocked.Read(ref nowNs));
        using var notifier = Notifier(watchdogUsec: "200000"); // 200 ms: pings every 100 ms
        var actor = Sys.ActorOf(SystemdNotifierActor.Props(notifier, Now));
        await actor.Ask<ActorIdentity>(new Identify(null), TimeSpan.FromSeconds(3));

        Sys.EventStream.Publish(new SegmentWritten(2, ClockStatus.Synchronized, Now()));
        Assert.StartsWith("READY=1", await ReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(TimeSpan.FromSeconds(5)));

        // The pipeline stalls: no write for longer than the watchdog interval → no more pings.
        Interlocked.Add(ref nowNs, 1_000_000_000);
        // A tick that was already running when the clock moved may still ping once; after that, silence.
        int late = 0;
        try { while (true) { await ReceiveAsync(TimeSpan.FromMilliseconds(250)); late++; } }
        catch (OperationCanceledException) { }
        Assert.InRange(late, 0, 1);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReceiveAsync(TimeSpan.FromMilliseconds(600)));

        // Writes resume → pings resume.
        Sys.EventStream.Publish(new SegmentWritten(4, ClockStatus.Synchronized, Now()));
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(TimeSpan.FromSeconds(5)));
    }
}
