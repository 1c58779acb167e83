using System.Diagnostics;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests;

/// <summary>The shipped units: equivalent to the reference units, Type=notify, and accepted by systemd-analyze verify.</summary>
public sealed class SystemdUnitSpecs
{
    public static TheoryData<string> Units => new() { "clockbound.service", "clockbound-pre235.service" };

    [Theory]
    [MemberData(nameof(Units))]
    public async Task Unit_must_pass_systemd_analyze_verify(string unit)
    {
        using var dir = new TempDirectory("cb-unit");
        // verify checks that ExecStart exists: point it at the daemon the tests were built with.
        string text = (await File.ReadAllTextAsync(RepoPaths.Config(unit))).Replace("/usr/local/bin/clockbound", RepoPaths.Daemon);
        string staged = dir.Combine(unit);
        await File.WriteAllTextAsync(staged, text);

        var psi = new ProcessStartInfo("systemd-analyze", ["verify", staged]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("systemd-analyze did not start");
        string stderr = await process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, $"systemd-analyze verify {unit} failed ({process.ExitCode}): {stderr}{stdout}");
        // Warnings about this unit (not about unrelated system units) are failures too.
        Assert.DoesNotContain(Path.GetFileName(staged) + ":", stderr);
    }

    [Theory]
    [MemberData(nameof(Units))]
    public async Task Unit_must_start_on_a_host_without_the_VMClock_device(string unit)
    {
        // The daemon runs there with --disable-clock-disruption-support; a failing chmod of the missing device must not
        // stop the unit first: systemd ignores the failure of a command prefixed with "-".
        var commands = (await File.ReadAllLinesAsync(RepoPaths.Config(unit)))
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("Exec", StringComparison.Ordinal) && l.Contains("/dev/vmclock0", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(commands);
        foreach (string command in commands)
        {
            string prefixes = command[(command.IndexOf('=', StringComparison.Ordinal) + 1)..command.IndexOf('/', StringComparison.Ordinal)];
            Assert.True(prefixes.Contains('-', StringComparison.Ordinal), $"{unit}: '{command}' fails the start when /dev/vmclock0 is missing");
        }
    }

    [Theory]
    [MemberData(nameof(Units))]
    public async Task Unit_must_keep_the_reference_semantics(string unit)
    {
        var lines = (await File.ReadAllLinesAsync(RepoPaths.Config(unit))).Select(l => l.Trim()).ToHashSet();
        Assert.Contains("Type=notify", lines);
        Assert.Contains("Restart=always", lines);
        Assert.Contains("RestartSec=10", lines);
        Assert.Contains("User=chrony", lines);
        Assert.Contains("Group=chrony", lines);
        Assert.Contains(lines, l => l.StartsWith("WatchdogSec=", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ExecStartPre=", StringComparison.Ordinal) && l.EndsWith("/bin/chmod a+r /dev/vmclock0", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ExecStart=/usr/local/bin/clockbound", StringComparison.Ordinal));
        if (unit == "clockbound.service")
        {
            Assert.Contains("RuntimeDirectory=clockbound", lines);
            Assert.Contains("RuntimeDirectoryPreserve=yes", lines);
        }
        else
        {
            Assert.Contains("ExecStartPre=/bin/mkdir -p /var/run/clockbound", lines);
        }
    }
}
