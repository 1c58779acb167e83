using ClockBound.Client;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;

namespace ClockBound.Demo;

/// <summary>
/// Starts a sandboxed chronyd pair, a VMClock file and the daemon, then shows the bounded time once a second.
/// Keys (on a terminal): d = clock disruption (bump the VMClock marker), o = chronyd offline + reset sources,
/// n = chronyd online, 1 = SIGUSR1, 2 = SIGUSR2, q = quit. Ctrl-C also quits; everything started is stopped.
/// </summary>
internal static class DemoRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        // --seconds N: stop by itself after N seconds (for scripted runs).
        double? seconds = args.Length == 2 && args[0] == "--seconds" && double.TryParse(args[1], out var s) ? s : null;
        using var quit = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; quit.Cancel(); };
        if (seconds is { } limit) quit.CancelAfter(TimeSpan.FromSeconds(limit));

        Console.WriteLine("Starting a sandboxed chronyd pair on loopback (chronyd -x: the system clock is never touched)...");
        await using var chrony = await ChronydSandbox.StartPairAsync();
        var tracking = await chrony.WaitSynchronisedAsync(TimeSpan.FromSeconds(30));
        Console.WriteLine($"chronyd synchronised to 127.0.0.1 (stratum {tracking.Stratum}); socket {chrony.ClientSocketPath}");

        using var dir = new TempDirectory("cbdemo");
        using var vmclock = FakeVmClock.Create(dir.Combine("vmclock0"), marker: 1);
        string shm = dir.Combine("clockbound", "shm0");
        string[] daemonArgs = ["--max-drift-rate", "50", "--chrony-socket", chrony.ClientSocketPath, "--shm-path", shm, "--vmclock-path", vmclock.Path];
        Console.WriteLine($"Starting: clockbound {string.Join(' ', daemonArgs)}");
        await using var daemon = DaemonProcess.Start(daemonArgs);
        await daemon.WaitUntilAsync(() => File.Exists(shm) && RawSegment.TryRead(shm)?.Generation > 0, TimeSpan.FromSeconds(15), "first segment write");

        bool interactive = !Console.IsInputRedirected;
        if (interactive)
            Console.WriteLine("Keys: d disruption, o chronyd offline, n chronyd online, 1 SIGUSR1, 2 SIGUSR2, q quit");
        using var client = ClockBoundClient.Open(shm, vmclock.Path);
        int printedLines = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        int tick = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(quit.Token))
            {
                var output = daemon.Output;
                for (; printedLines < output.Count; printedLines++) Console.WriteLine($"  daemon | {output[printedLines]}");
                if (daemon.HasExited)
                {
                    Console.WriteLine("The daemon exited.");
                    return 1;
                }
                if (interactive && Console.KeyAvailable && !await HandleKeyAsync(Console.ReadKey(intercept: true).KeyChar, vmclock, chrony, daemon))
                    break;
                if (tick++ % 4 == 0)
                    PrintNow(client);
            }
        }
        catch (OperationCanceledException)
        {
        }
        Console.WriteLine("Stopping the daemon (SIGTERM) and the chronyd pair...");
        daemon.Signal(DaemonProcess.SIGTERM);
        int exit = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Console.WriteLine($"clockbound exited with {exit}");
        return 0;
    }

    private static void PrintNow(ClockBoundClient client)
    {
        try
        {
            var now = client.Now();
            Console.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss} status {now.Status,-12} bound {now.BoundNanoseconds,12:N0} ns  earliest {now.Earliest:HH:mm:ss.fffffff}  latest {now.Latest:HH:mm:ss.fffffff}");
        }
        catch (ClockBoundException e)
        {
            Console.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss} {e.Kind}: {e.Message}");
        }
    }

    private static async Task<bool> HandleKeyAsync(char key, FakeVmClock vmclock, ChronydSandbox chrony, DaemonProcess daemon)
    {
        switch (key)
        {
            case 'd':
                Console.WriteLine($"-- VMClock disruption marker bumped to {vmclock.BumpMarker()}");
                break;
            case 'o':
                Console.WriteLine("-- chronyd offline + reset sources");
                await chrony.OfflineAndResetAsync();
                break;
            case 'n':
                Console.WriteLine("-- chronyd online");
                await chrony.OnlineAsync();
                break;
            case '1':
                Console.WriteLine("-- SIGUSR1 (forced disruption on)");
                daemon.Signal(DaemonProcess.SIGUSR1);
                break;
            case '2':
                Console.WriteLine("-- SIGUSR2 (forced disruption off)");
                daemon.Signal(DaemonProcess.SIGUSR2);
                break;
            case 'q':
                return false;
        }
        return true;
    }
}
