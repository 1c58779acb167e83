using ClockBound.Host;
using ClockBound.Host.Cli;
using ClockBound.Host.Configuration;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests;

/// <summary>Invalid input: exit code 2, exactly one line on stderr naming the culprit, nothing on stdout, segment untouched.</summary>
public sealed class CommandLineSpecs : IDisposable
{
    private readonly TempDirectory _dir = new("cb-cli");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string[], string?> InvalidInvocations => new()
    {
        // name, arguments ({dir} = temp dir, {conf} = the config file written from the third column), expected culprit in the message
        { "drift not a number", ["-m", "abc"], null },
        { "drift fractional", ["--max-drift-rate", "1.5"], null },
        { "drift negative", ["-m", "-1"], null },
        { "drift too large", ["-m", "1000000"], null },
        { "drift value missing", ["-m"], null },
        { "unknown option", ["--bogus"], null },
        { "unexpected argument", ["extra-argument"], null },
        { "ref id without interface", ["-r", "PHC0"], null },
        { "interface without ref id", ["-i", "eth0"], null },
        { "ref id too long", ["-r", "TOOLONG", "-i", "eth0"], null },
        { "ref id not ASCII", ["-r", "PHCé", "-i", "eth0"], null },
        { "interface with a slash", ["-r", "PHC0", "-i", "../eth0"], null },
        { "unknown source", ["--clock-error-bound-source", "gps"], null },
        { "vmclock source not supported", ["--clock-error-bound-source", "VMClock"], null },
        { "empty shm path", ["--shm-path", ""], null },
        { "missing config file", ["-c", "{dir}/missing.conf"], null },
        { "config file is a directory", ["-c", "{dir}"], null },
        { "config not HOCON", ["-c", "{conf}"], "clockbound { chrony { poll-interval = 1s } } }" },
        { "config truncated", ["-c", "{conf}"], "clockbound {\n  chrony {\n    poll-interval = 1s\n" },
        { "config of another program", ["-c", "{conf}"], "server { port = 80 }" },
        { "zero poll interval", ["-c", "{conf}"], "clockbound.chrony.poll-interval = 0ms" },
        { "negative poll interval", ["-c", "{conf}"], "clockbound.vmclock.poll-interval = -10ms" },
        { "duration without sense", ["-c", "{conf}"], "clockbound.chrony.timeout = soon" },
        { "misspelt key", ["-c", "{conf}"], "clockbound.chrony.pol-interval = 1s" },
        { "negative drift in file", ["-c", "{conf}"], "clockbound.max-drift-rate = -3" },
        { "zero reset tries", ["-c", "{conf}"], "clockbound.chrony.reset-tries = 0" },
        { "boolean that is not", ["-c", "{conf}"], "clockbound.clock-disruption-support = maybe" },
        { "back-off bounds crossed", ["-c", "{conf}"], "clockbound.supervision.min-backoff = 20s" },
        { "burst good above total", ["-c", "{conf}"], "clockbound.chrony.burst-good-samples = 9" },
        { "unknown source in file", ["-c", "{conf}"], "clockbound.clock-error-bound-source = ntp" },
        { "metrics on a host name", ["--metrics-listen", "localhost:9464"], null },
        { "metrics without a port", ["--metrics-listen", "127.0.0.1"], null },
        { "metrics on port 0", ["--metrics-listen", "127.0.0.1:0"], null },
    };

    private static readonly Dictionary<string, string> ExpectedCulprit = new()
    {
        ["drift not a number"] = "abc",
        ["drift fractional"] = "1.5",
        ["drift negative"] = "--max-drift-rate",
        ["drift too large"] = "1000000",
        ["drift value missing"] = "-m",
        ["unknown option"] = "--bogus",
        ["unexpected argument"] = "extra-argument",
        ["ref id without interface"] = "--phc-interface",
        ["interface without ref id"] = "--phc-ref-id",
        ["ref id too long"] = "TOOLONG",
        ["ref id not ASCII"] = "--phc-ref-id",
        ["interface with a slash"] = "../eth0",
        ["unknown source"] = "gps",
        ["vmclock source not supported"] = "not supported",
        ["empty shm path"] = "--shm-path",
        ["missing config file"] = "missing.conf",
        ["config file is a directory"] = "--config",
        ["config not HOCON"] = "bad.conf",
        ["config truncated"] = "never closed",
        ["config of another program"] = "server",
        ["zero poll interval"] = "clockbound.chrony.poll-interval",
        ["negative poll interval"] = "clockbound.vmclock.poll-interval",
        ["duration without sense"] = "clockbound.chrony.timeout",
        ["misspelt key"] = "clockbound.chrony.pol-interval",
        ["negative drift in file"] = "clockbound.max-drift-rate",
        ["zero reset tries"] = "clockbound.chrony.reset-tries",
        ["boolean that is not"] = "clockbound.clock-disruption-support",
        ["back-off bounds crossed"] = "clockbound.supervision.min-backoff",
        ["burst good above total"] = "clockbound.chrony.burst-good-samples",
        ["unknown source in file"] = "ntp",
        ["metrics on a host name"] = "localhost:9464",
        ["metrics without a port"] = "--metrics-listen",
        ["metrics on port 0"] = "127.0.0.1:0",
    };

    [Theory]
    [MemberData(nameof(InvalidInvocations))]
    public async Task Invalid_input_must_exit_2_with_one_line_naming_the_culprit_and_leave_the_segment_untouched(
        string name, string[] arguments, string? configText)
    {
        string shm = _dir.Combine("run", "shm0");
        string conf = _dir.Combine("bad.conf");
        if (configText is not null) await File.WriteAllTextAsync(conf, configText);
        var args = arguments.Select(a => a.Replace("{dir}", _dir.Path).Replace("{conf}", conf)).ToList();
        if (!args.Contains("--shm-path")) args.InsertRange(0, ["--shm-path", shm]);

        var (exit, stdout, stderr) = await Run([.. args]);

        Assert.Equal(ExitCodes.InvalidInput, exit);
        Assert.Equal("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("clockbound: ", lines[0]);
        Assert.Contains(ExpectedCulprit[name], lines[0]);
        Assert.False(Directory.Exists(_dir.Combine("run")), "the segment directory must not be created");
    }

    [Fact]
    public async Task Check_config_must_print_the_effective_values_with_the_command_line_over_the_file_over_the_defaults()
    {
        string conf = _dir.Combine("my.conf");
        await File.WriteAllTextAsync(conf, "clockbound {\n  max-drift-rate = 20\n  chrony { poll-interval = 250ms }\n  shm-path = \"/from/file\"\n}\n");
        string shm = _dir.Combine("run", "shm0");

        var (exit, stdout, stderr) = await Run("--check-config", "-c", conf, "-m", "50", "--shm-path", shm, "-d", "-r", "PHC0", "-i", "ens5");

        Assert.Equal(ExitCodes.Success, exit);
        Assert.Equal("", stderr);
        Assert.Contains("max-drift-rate = 50", stdout);                  // command line beats the file
        Assert.Contains("poll-interval = 250ms", stdout);                // file beats the default (100ms)
        Assert.Contains($"shm-path = \"{shm}\"", stdout);
        Assert.Contains("timeout = 1s", stdout);                          // default
        Assert.Contains("clock-disruption-support = off", stdout);
        Assert.Contains("phc-ref-id = \"PHC0\"", stdout);
        Assert.Contains("phc-interface = \"ens5\"", stdout);
        Assert.False(File.Exists(shm));
    }

    [Fact]
    public async Task Check_config_output_must_itself_be_a_valid_configuration_file()
    {
        var (exit, printed, _) = await Run("--check-config", "-m", "7");
        Assert.Equal(ExitCodes.Success, exit);
        string conf = _dir.Combine("roundtrip.conf");
        await File.WriteAllTextAsync(conf, printed);

        var (exit2, printed2, stderr2) = await Run("--check-config", "-c", conf);

        Assert.Equal("", stderr2);
        Assert.Equal(ExitCodes.Success, exit2);
        Assert.Equal(printed, printed2);
    }

    /// <summary>A value other than the default for every key but clock-error-bound-source (chrony is the only valid
    /// one), written as --check-config writes it.</summary>
    private const string EveryKeyChanged = """
        clockbound {
          shm-path = "/srv/cb/shm0"
          chrony-socket = "/srv/chrony/chronyd.sock"
          chrony-client-socket-dir = "/srv/cb-client"
          vmclock-path = "/srv/vmclock0"
          sysfs-root = "/srv/sys"
          max-drift-rate = 50
          clock-disruption-support = off
          phc-ref-id = "PHC0"
          phc-interface = "ens5"
          clock-error-bound-source = chrony
          json-output = on
          verbose = on
          log-file = "/srv/cb.log"
          metrics-listen = "127.0.0.1:9464"
          chrony {
            poll-interval = 250ms
            timeout = 2s
            restart-grace = 7s
            stale-factor = 4.5
            reset-tries = 3
            reset-retry-interval = 7ms
            burst-tries = 4
            burst-retry-interval = 150ms
            burst-good-samples = 2
            burst-total-samples = 5
            reset-cooldown = 20s
          }
          vmclock {
            poll-interval = 20ms
            heartbeat-interval = 2s
          }
          phc {
            read-interval = 3s
          }
          segment {
            void-after = 600s
          }
          supervision {
            min-backoff = 200ms
            max-backoff = 30s
            random-factor = 0.5
          }
        }
        """;

    [Fact]
    public async Task Check_config_must_print_every_key_once_with_the_value_the_file_gave_it()
    {
        string conf = _dir.Combine("every-key.conf");
        await File.WriteAllTextAsync(conf, EveryKeyChanged);

        var (exit, printed, stderr) = await Run("--check-config", "-c", conf);

        Assert.Equal("", stderr);
        Assert.Equal(ExitCodes.Success, exit);
        var given = Leaves(EveryKeyChanged);
        var defaults = Leaves(ConfigurationLoader.Render(ConfigurationLoader.Load(new CommandLineOverrides())));
        Assert.Equal(KeysOf(ConfigurationLoader.Defaults.GetConfig("clockbound").Root, "").Order(), defaults.Keys.Order());
        Assert.Equal(defaults.Keys.Order(), given.Keys.Order()); // the file above names every key there is
        Assert.All(given.Where(g => g.Key != "clock-error-bound-source"), g => Assert.NotEqual(defaults[g.Key], g.Value));
        Assert.Equal(given, Leaves(printed)); // every key printed, each once, with the file's value
        var (_, printedAgain, _) = await Run("--check-config", "-c", await WriteAsync("printed.conf", printed));
        Assert.Equal(printed, printedAgain);
    }

    /// <summary>"key = value" lines of a configuration as --check-config prints it, by path under clockbound (a
    /// repeated key would throw).</summary>
    private static Dictionary<string, string> Leaves(string hocon)
    {
        var leaves = new Dictionary<string, string>();
        var blocks = new Stack<string>();
        foreach (var line in hocon.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            if (line.EndsWith('{')) blocks.Push(line.TrimEnd('{').Trim());
            else if (line == "}") blocks.Pop();
            else
            {
                var (key, value) = (line[..line.IndexOf(" = ", StringComparison.Ordinal)], line[(line.IndexOf(" = ", StringComparison.Ordinal) + 3)..]);
                leaves.Add(string.Join('.', blocks.Reverse().Skip(1).Append(key)), value);
            }
        }
        return leaves;
    }

    /// <summary>Paths of the leaves under <paramref name="value"/> in a parsed configuration.</summary>
    private static IEnumerable<string> KeysOf(Akka.Configuration.Hocon.HoconValue value, string prefix) => value.IsObject()
        ? value.GetObject().Items.SelectMany(item => KeysOf(item.Value, prefix.Length == 0 ? item.Key : $"{prefix}.{item.Key}"))
        : [prefix];

    private async Task<string> WriteAsync(string name, string text)
    {
        string path = _dir.Combine(name);
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    [Fact]
    public async Task A_log_file_that_is_a_directory_must_be_a_fatal_start_up_error_worded_and_printed_like_the_others()
    {
        string logDirectory = _dir.Combine("logs");
        Directory.CreateDirectory(logDirectory);
        string conf = _dir.Combine("log.conf");
        await File.WriteAllTextAsync(conf, $"clockbound {{ log-file = \"{logDirectory}\" }}\n");

        string fatal = await FatalStartUpLine("-d", "-c", conf);

        Assert.EndsWith($"log file {logDirectory} is a directory", fatal);
    }

    [Fact]
    public async Task A_missing_VMClock_must_be_a_fatal_start_up_error_with_the_advice_given_once()
    {
        string vmclock = _dir.Combine("vmclock0");

        string fatal = await FatalStartUpLine("--vmclock-path", vmclock);

        Assert.Contains($"VMClock device {vmclock} does not exist", fatal);
        Assert.Single(fatal.Split("--disable-clock-disruption-support")[1..]); // said once
        Assert.DoesNotContain("chmod", fatal); // nothing to make readable
    }

    [Fact]
    public async Task A_segment_path_whose_parent_directory_is_missing_must_be_a_fatal_start_up_error_creating_nothing()
    {
        string shm = _dir.Combine("nonexistent", "sub", "shm0");
        var run = await Operations.ToolRun.RunAsync(RepoPaths.Daemon,
            ["--max-drift-rate", "50", "-d", "--chrony-socket", _dir.Combine("chronyd.sock"), "--shm-path", shm], TimeSpan.FromMinutes(1));

        Assert.True(run.ExitCode == ExitCodes.StartupFailure, $"exit code {run.ExitCode}: {run.Stderr}{run.Stdout}");
        var fatal = Assert.Single(run.Stdout.Split('\n'), l => l.Contains(" FTL ", StringComparison.Ordinal));
        Assert.Contains($"{_dir.Combine("nonexistent")} does not exist", fatal);
        Assert.False(Directory.Exists(_dir.Combine("nonexistent")), "a mistyped --shm-path must not create directories");
    }

    /// <summary>Runs the real daemon (no chronyd: only a warning) to its start-up failure: exit code 1, nothing on stderr,
    /// and the one fatal log line on stdout, where every fatal start-up error goes.</summary>
    private async Task<string> FatalStartUpLine(params string[] extra)
    {
        string shm = _dir.Combine("run", "shm0");
        var run = await Operations.ToolRun.RunAsync(RepoPaths.Daemon,
            ["--max-drift-rate", "50", "--chrony-socket", _dir.Combine("chronyd.sock"), "--shm-path", shm, .. extra], TimeSpan.FromMinutes(1));
        Assert.True(run.ExitCode == ExitCodes.StartupFailure, $"exit code {run.ExitCode}: {run.Stderr}{run.Stdout}");
        Assert.Equal("", run.Stderr);
        Assert.False(Directory.Exists(_dir.Combine("run")), "the segment directory must not be created");
        return Assert.Single(run.Stdout.Split('\n'), l => l.Contains(" FTL ", StringComparison.Ordinal));
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await ClockBoundCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
