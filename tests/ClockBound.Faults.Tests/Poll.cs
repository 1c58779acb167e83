using System.Diagnostics;

namespace ClockBound.Faults.Tests;

/// <summary>Waiting for a condition with a deadline, where no daemon is running to watch (<see cref="TestSupport.DaemonProcess.WaitUntilAsync"/>).</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > timeout) throw new TimeoutException($"{what}: not within {timeout}");
            await Task.Delay(10);
        }
    }
}
