using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.Systemd;

/// <summary>The harness's own guarantees: a systemd booted for tests leaves the machine alone.</summary>
[Collection(SystemdCollection.Name)]
public sealed class SystemdSandboxSpecs
{
    /// <summary>A unit with default dependencies: it pulls sysinit.target, whose tmpfiles service once emptied the machine's /tmp.</summary>
    private const string ProbeUnit = """
        [Unit]
        Description=probe with default dependencies

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        ExecStart=/bin/true
        """;

    [Fact]
    public async Task Sandbox_must_leave_the_machines_tmp_alone_and_run_nothing_beyond_what_is_expected()
    {
        string canary = Path.Combine(Path.GetTempPath(), $"clockbound-canary-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(canary, "must survive");
        try
        {
            await using (var sandbox = await SystemdSandbox.BootAsync(new Dictionary<string, string> { ["probe.service"] = ProbeUnit }))
            {
                await sandbox.SystemctlAsync("start", "probe.service");
                Assert.Equal("active", await sandbox.PropertyAsync("probe.service", "ActiveState"));
                Assert.True(File.Exists(canary), "the machine's /tmp was touched by the sandbox's systemd");

                var unexpected = (await sandbox.ActiveUnitsAsync())
                    .Where(u => u.Unit != "probe.service" && !SystemdSandbox.IsExpectedInfrastructure(u.Unit))
                    .ToList();
                Assert.True(unexpected.Count == 0, $"active beyond what is expected: {string.Join(", ", unexpected)}");
                var processes = await sandbox.ProcessesAsync();
                Assert.DoesNotContain(processes, p => p.Contains("chronyd", StringComparison.Ordinal));
                // Private mounts: the sandbox's /tmp is not the machine's.
                Assert.False(File.Exists(sandbox.OutsidePath(canary)), "the sandbox sees the machine's /tmp");
            }
            Assert.True(File.Exists(canary), "the machine's /tmp was touched by the sandbox's systemd");
        }
        finally
        {
            File.Delete(canary);
        }
    }
}

/// <summary>The classes that boot a systemd run alone, one after another: each owns the machine's attention while its
/// units start, restart and are timed. They share one published daemon (a ReadyToRun publish by install.sh).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SystemdCollection : ICollectionFixture<Operations.PublishedInstall>
{
    public const string Name = "systemd";
}
