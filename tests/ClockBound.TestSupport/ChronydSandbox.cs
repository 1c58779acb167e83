using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ClockBound.TestSupport;

/// <summary>
/// A real chronyd pair on loopback, both with <c>-x</c>: a "server" (<c>local stratum 8</c>) on a free random UDP port and
/// a "client" synchronised to it every 0.25 s. Each sandbox has its own short /tmp directory and port, so sandboxes run in
/// parallel. Dispose stops both chronyds by PID and deletes the directory. <see cref="StartRefclockOnlyAsync"/> starts
/// instead a client whose only source is a reference clock, and no server.
/// </summary>
public sealed class ChronydSandbox : IAsyncDisposable
{
    /// <summary>Below Linux's ephemeral range (32768–60999) so that no outgoing socket holds the port; above the well-known ones.</summary>
    private const int MinPort = 20000;
    private const int MaxPort = 32000;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly TempDirectory _directory;

    private ChronydSandbox(TempDirectory directory, int port, bool refclockOnly)
    {
        _directory = directory;
        Port = port;
        Server = new ChronydProcess("server", directory.Combine("s"), [
            "local stratum 8",
            $"port {port}",
            "bindaddress 127.0.0.1",
            "allow 127.0.0.1",
        ]);
        var clientDirectory = directory.Combine("c");
        Client = new ChronydProcess("client", clientDirectory, refclockOnly ? [
            // No NTP source at all, as a chronyd configured with only a PHC (or other reference clocks): a reference
            // clock that nothing feeds, read from a Unix socket in the sandbox (chronyd's SOCK driver). Not SHM 0,
            // which works as well but is a machine-wide SysV segment (key "NTP0") that chronyd creates and leaves
            // behind, shared by every sandbox and by any gpsd feeding it.
            $"refclock SOCK {Path.Combine(clientDirectory, "refclock.sock")}",
            "port 0", // no NTP server socket
        ] : [
            // maxdelaydevratio: chronyd drops a sample whose delay is far above the usual one. On loopback in a VM the
            // delay jumps from about 20 µs to hundreds whenever the other vCPU has to be woken, and with the default
            // ratio (10) chronyd dropped 139 of 164 samples here: it then updated its reference only every few seconds,
            // and the "older than 8 update intervals" rule made the daemon say FreeRunning for seconds at random. The
            // sandbox tests the daemon, not chronyd's filters: accept every sample (an update every 0.25 s).
            $"server 127.0.0.1 port {port} iburst minpoll -2 maxpoll -2 maxdelaydevratio 1000000",
            "port 0", // no NTP server socket
            "bindacqaddress 127.0.0.1",
        ]);
    }

    /// <summary>The NTP port of the server chronyd.</summary>
    public int Port { get; }

    /// <summary>The server chronyd; not started in a refclock-only sandbox.</summary>
    public ChronydProcess Server { get; }

    public ChronydProcess Client { get; }

    public string ServerSocketPath => Server.SocketPath;

    public string ClientSocketPath => Client.SocketPath;

    /// <summary>The sandbox's own directory (mode 0700), e.g. for client sockets.</summary>
    public string DirectoryPath => _directory.Path;

    /// <summary>Starts the server, then the client; stops whatever started if anything fails.</summary>
    public static Task<ChronydSandbox> StartPairAsync() => StartAsync(refclockOnly: false);

    /// <summary>Starts only a client whose single source is a reference clock that nothing feeds (no server): it stays
    /// unsynchronised, accepts <c>reset sources</c>, and refuses every <c>burst</c> with "no such source" (status 4), as
    /// a PHC-only chronyd does.</summary>
    public static Task<ChronydSandbox> StartRefclockOnlyAsync() => StartAsync(refclockOnly: true);

    private static async Task<ChronydSandbox> StartAsync(bool refclockOnly)
    {
        var sandbox = new ChronydSandbox(new TempDirectory("cbc"), FreeUdpPort(), refclockOnly);
        try
        {
            if (!refclockOnly) await sandbox.Server.StartAsync();
            await sandbox.Client.StartAsync();
            return sandbox;
        }
        catch
        {
            await sandbox.DisposeAsync();
            throw;
        }
    }

    /// <summary>Polls <c>chronyc tracking</c> on the client until it is synchronised to the server with an update interval
    /// above 0 (past the first-sample state); returns that tracking line.</summary>
    public async Task<ChronydTracking> WaitSynchronisedAsync(TimeSpan timeout) =>
        await WaitClientAsync(t => t.IsSynchronisedToLoopback, "synchronised to 127.0.0.1", timeout);

    /// <summary>Polls <c>chronyc tracking</c> on the client until <paramref name="condition"/> holds.</summary>
    public async Task<ChronydTracking> WaitClientAsync(Func<ChronydTracking, bool> condition, string description, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var tracking = await Client.GetTrackingAsync();
            if (condition(tracking)) return tracking;
            if (stopwatch.Elapsed > timeout)
                throw new TimeoutException($"chronyd client at {ClientSocketPath} not {description} after {timeout}: last {tracking}\n{Client.ReadLog()}");
            await Task.Delay(PollInterval);
        }
    }

    /// <summary><c>chronyc -h CLIENT_SOCKET args</c>.</summary>
    public Task<string> RunChronycAsync(params string[] args) => Client.RunChronycAsync(args);

    /// <summary>Makes the client unsynchronised at once: <c>offline</c>, then <c>reset sources</c>.</summary>
    public async Task OfflineAndResetAsync()
    {
        await Client.RunChronycAsync("offline");
        await Client.RunChronycAsync("reset", "sources");
    }

    /// <summary>Puts the client's source back online (synchronised again about 0.5 s later).</summary>
    public Task OnlineAsync() => Client.RunChronycAsync("online");

    public void StopClient() => Client.Stop();

    public Task StartClientAgainAsync() => Client.StartAsync();

    public void StopServer() => Server.Stop();

    public Task StartServerAgainAsync() => Server.StartAsync();

    public ValueTask DisposeAsync()
    {
        try
        {
            Client.Dispose();
        }
        finally
        {
            Server.Dispose();
            _directory.Dispose();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>A random port in [MinPort, MaxPort) that nobody holds on 127.0.0.1: our own bind (without SO_REUSEPORT)
    /// fails while any socket, chronyd's SO_REUSEPORT ones included, is bound to it.</summary>
    /// <summary>A UDP port on 127.0.0.1 that nothing uses now (for a chronyd server of a test).</summary>
    public static int FreeUdpPort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(MinPort, MaxPort);
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) { }
        }
        throw new InvalidOperationException($"no free UDP port in [{MinPort}, {MaxPort}) after 100 attempts");
    }
}
