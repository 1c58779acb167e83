// Commit-wait with ClockBound.Client: stamp a commit with the latest possible true time now, then hold the
// acknowledgement until that stamp is in the past for every host (the earliest possible true time is after it).
//
//   dotnet run -- [SHM_PATH [VMCLOCK_PATH]]
//
// Exit codes: 0 commit-wait done; 1 no usable segment (missing, bad, or an unusable VMClock device); 2 the clock is not
// usable (status Unknown or Disrupted); 3 the wait did not finish within its timeout.
using System.Diagnostics;
using ClockBound.Client;
using ClockBound.Io.Segment; // ClockStatus, ClockBoundException

string shmPath = args.Length > 0 ? args[0] : ClockBoundClient.DefaultShmPath;
string vmClockPath = args.Length > 1 ? args[1] : ClockBoundClient.DefaultVmClockPath;
TimeSpan timeout = TimeSpan.FromSeconds(5);

try
{
    using var clock = ClockBoundClient.Open(shmPath, vmClockPath);

    ClockBoundTime now = clock.Now();
    var sinceNow = Stopwatch.StartNew();
    Console.WriteLine($"now: {now.Earliest:O} .. {now.Latest:O} (±{now.BoundNanoseconds} ns, {now.Status})");
    if (!now.IsUsable)
    {
        Console.Error.WriteLine($"commit-wait: the clock is {now.Status} ({shmPath}): no bound to wait on; is clockbound synchronised?");
        return 2;
    }

    // The commit's timestamp: the latest possible true time now. Every host will have it in its past once the
    // earliest possible true time here is after it, which takes about twice the bound.
    long commitTs = now.LatestNanoseconds;
    using var deadline = new CancellationTokenSource(timeout);
    await clock.WaitUntilAfterAsync(commitTs, deadline.Token);
    long waitedMs = sinceNow.ElapsedMilliseconds; // since commitTs was taken

    Console.WriteLine($"commit-wait done: commitTs={commitTs} past={clock.IsBefore(commitTs)} waited {waitedMs} ms");
    return 0;
}
catch (ClockBoundException e)
{
    Console.Error.WriteLine($"commit-wait: cannot use the ClockBound segment {shmPath}: {e.Kind}: {e.Message}");
    return 1;
}
catch (ClockNotUsableException e)
{
    Console.Error.WriteLine($"commit-wait: the clock became {e.Status} while waiting ({shmPath})");
    return 2;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine($"commit-wait: not done within {timeout.TotalSeconds} s ({shmPath})");
    return 3;
}
