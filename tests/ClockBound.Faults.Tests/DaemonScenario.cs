using ClockBound.TestSupport;

namespace ClockBound.Faults.Tests;

/// <summary>
/// The world of one end-to-end fault test: a private directory, a real sandboxed chronyd pair (synchronised), a fake
/// VMClock file, the segment path, and the daemons started against them. Disposing kills the daemons still running, stops
/// both chronyds and removes the directory.
/// </summary>
internal sealed class DaemonScenario : IAsyncDisposable
{
    /// <summary>--max-drift-rate of every daemon, ppm (as chrony's maxclockerror 50 of the reference setup).</summary>
    public const int MaxDriftPpm = 50;

    public static readonly TimeSpan SynchroniseTimeout = TimeSpan.FromSeconds(60);

    private readonly List<DaemonProcess> _daemons = [];

    private DaemonScenario(TempDirectory directory, ChronydSandbox sandbox, FakeVmClock vmClock)
    {
        Directory = directory;
        Sandbox = sandbox;
        VmClock = vmClock;
        ShmPath = directory.Combine("run", "shm0");
    }

    public TempDirectory Directory { get; }

    public ChronydSandbox Sandbox { get; }

    public FakeVmClock VmClock { get; }

    /// <summary>The segment, in a directory the daemon creates.</summary>
    public string ShmPath { get; }

    /// <summary>The options of every daemon here: drift 50 ppm, the sandbox's client chronyd, the segment, the fake VMClock.</summary>
    public string[] DaemonArguments =>
    [
        "--max-drift-rate", MaxDriftPpm.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--chrony-socket", Sandbox.ClientSocketPath,
        "--shm-path", ShmPath,
        "--vmclock-path", VmClock.Path,
    ];

    /// <summary>Starts the chronyd pair and, unless told otherwise, waits until the client is synchronised.</summary>
    public static async Task<DaemonScenario> StartAsync(bool synchronised = true)
    {
        var directory = new TempDirectory("cbf");
        ChronydSandbox? sandbox = null;
        try
        {
            sandbox = await ChronydSandbox.StartPairAsync();
            if (synchronised)
                await sandbox.WaitSynchronisedAsync(SynchroniseTimeout);
            return new DaemonScenario(directory, sandbox, FakeVmClock.Create(directory.Combine("vmclock0")));
        }
        catch
        {
            if (sandbox is not null) await sandbox.DisposeAsync();
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Starts a daemon with <see cref="DaemonArguments"/> plus <paramref name="extra"/>, through
    /// <paramref name="launcher"/> if given (see <see cref="DaemonProcess.StartVia"/>).</summary>
    public DaemonProcess StartDaemon(IReadOnlyList<string>? launcher = null, params string[] extra)
    {
        var daemon = DaemonProcess.StartVia(launcher ?? [], [.. DaemonArguments, .. extra]);
        _daemons.Add(daemon);
        return daemon;
    }

    /// <summary>Polls the segment file (decoded independently of the project's reader) until <paramref name="condition"/>
    /// holds; fails with the daemon's output otherwise.</summary>
    public async Task<RawSegment> WaitForSegmentAsync(DaemonProcess daemon, Func<RawSegment, bool> condition, TimeSpan timeout, string what)
    {
        RawSegment? seen = null;
        await daemon.WaitUntilAsync(() => (seen = RawSegment.TryRead(ShmPath)) is { } s && condition(s), timeout, what);
        return seen!;
    }

    public Task<RawSegment> WaitSynchronizedAsync(DaemonProcess daemon) =>
        WaitForSegmentAsync(daemon, s => s.ClockStatus == RawSegment.Synchronized, SynchroniseTimeout, $"segment {ShmPath} Synchronized");

    public async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var daemon in _daemons) await daemon.DisposeAsync();
            VmClock.Dispose();
            await Sandbox.DisposeAsync();
        }
        finally
        {
            Directory.Dispose();
        }
    }
}
