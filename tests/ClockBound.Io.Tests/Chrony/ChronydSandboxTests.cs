using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>The test harness itself: sandboxes are isolated from each other and leave no chronyd behind.</summary>
public sealed class ChronydSandboxTests
{
    [Fact]
    public async Task Dispose_must_stop_both_chronyds_and_remove_the_directory()
    {
        var sandbox = await ChronydSandbox.StartPairAsync();
        var pids = new[] { sandbox.Server.Pid, sandbox.Client.Pid };
        var directory = sandbox.DirectoryPath;
        Assert.All(pids, pid => Assert.True(pid is { } p && ChronydProcess.IsAlive(p)));

        await sandbox.DisposeAsync();

        Assert.All(pids, pid => Assert.False(ChronydProcess.IsAlive(pid!.Value)));
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public async Task Two_sandboxes_must_use_their_own_directory_port_and_sockets()
    {
        await using var first = await ChronydSandbox.StartPairAsync();
        await using var second = await ChronydSandbox.StartPairAsync();

        Assert.NotEqual(first.Port, second.Port);
        Assert.NotEqual(first.DirectoryPath, second.DirectoryPath);
        Assert.StartsWith(first.DirectoryPath + "/", first.ClientSocketPath);
        Assert.StartsWith(first.DirectoryPath + "/", first.ServerSocketPath);
        Assert.True((await first.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout)).IsSynchronisedToLoopback);
        Assert.True((await second.WaitSynchronisedAsync(SynchronisedChronyd.SyncTimeout)).IsSynchronisedToLoopback);
    }
}
