using System.Reflection;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using ClockBound.Actors;
using ClockBound.Io.Phc;

namespace ClockBound.Host.Configuration;

/// <summary>
/// Built-in defaults (config/clockbound.conf, embedded) ← the file given with -c ← the command line.
/// Every invalid value is reported as one <see cref="ConfigurationException"/> naming the key or option.
/// </summary>
public static class ConfigurationLoader
{
    private const string Section = "clockbound";

    /// <summary>The compiled-in config/clockbound.conf.</summary>
    public static Config Defaults { get; } = LoadDefaults();

    public static EffectiveConfiguration Load(CommandLineOverrides cli)
    {
        try
        {
            return LoadUnchecked(cli);
        }
        catch (ConfigurationException e) when (cli.ConfigFile is { } file && e.Message.StartsWith(Section + ".", StringComparison.Ordinal))
        {
            // The built-in defaults are valid, so an invalid key's value came from the user's file: name it.
            throw new ConfigurationException($"--config {file}: {e.Message}");
        }
    }

    private static EffectiveConfiguration LoadUnchecked(CommandLineOverrides cli)
    {
        Config user = cli.ConfigFile is { } file ? ReadFile(file) : Config.Empty;
        if (cli.ConfigFile is { } f)
            RejectUnknownKeys(user, f);
        Config merged = user.WithFallback(Defaults);
        Config section = merged.GetConfig(Section);

        var config = new EffectiveConfiguration(new ClockBoundSettings(), JsonOutput: false, Verbose: false,
            MaxDriftRateIsDefault: cli.MaxDriftRatePpm is null && !user.HasPath($"{Section}.max-drift-rate"),
            LogFile: null, MetricsListen: null, Hocon: merged);
        foreach (var key in Keys)
            config = key.Load(section, cli, config);

        // Rules across keys, once every key is read.
        var settings = config.Settings;
        if ((settings.PhcReferenceId is null) != (settings.PhcInterface is null))
            throw new ConfigurationException(settings.PhcReferenceId is null
                ? "--phc-interface requires --phc-ref-id (both or neither)"
                : "--phc-ref-id requires --phc-interface (both or neither)");
        if (settings.BurstGoodSamples > settings.BurstTotalSamples)
            throw new ConfigurationException($"{Section}.chrony.burst-good-samples: {settings.BurstGoodSamples} is more than burst-total-samples {settings.BurstTotalSamples}");
        if (settings.RestartBackoffMin > settings.RestartBackoffMax)
            throw new ConfigurationException($"{Section}.supervision.min-backoff: {settings.RestartBackoffMin} is more than max-backoff {settings.RestartBackoffMax}");
        return config;
    }

    /// <summary>The effective configuration as HOCON (for --check-config): every key of <see cref="Keys"/>, in its order,
    /// nested under its section, so that loading the output yields the same configuration.</summary>
    public static string Render(EffectiveConfiguration config)
    {
        var lines = new List<string> { Section + " {" };
        string? block = null;
        foreach (var key in Keys)
        {
            int dot = key.Name.IndexOf('.');
            string? keyBlock = dot < 0 ? null : key.Name[..dot];
            if (keyBlock != block)
            {
                if (block is not null) lines.Add("  }");
                if (keyBlock is not null) lines.Add($"  {keyBlock} {{");
                block = keyBlock;
            }
            string indent = block is null ? "  " : "    ";
            lines.Add($"{indent}{key.Name[(dot + 1)..]} = {key.Render(config)}");
        }
        if (block is not null) lines.Add("  }");
        lines.Add("}");
        return string.Join('\n', lines);
    }

    /// <summary>One key of the <c>clockbound</c> section: its path under the section; how it is read (with the command
    /// line's override, if any) and validated, and where the value goes; and how --check-config writes it back.</summary>
    private sealed record Key(
        string Name,
        Func<Config, CommandLineOverrides, EffectiveConfiguration, EffectiveConfiguration> Load,
        Func<EffectiveConfiguration, string> Render);

    /// <summary>A key of the actors' settings: <paramref name="read"/> gets the section, the key and the command line.</summary>
    private static Key Setting<T>(string name, Func<Config, string, CommandLineOverrides, T> read,
        Func<ClockBoundSettings, T, ClockBoundSettings> set, Func<ClockBoundSettings, string> render) =>
        new(name, (section, cli, c) => c with { Settings = set(c.Settings, read(section, name, cli)) }, c => render(c.Settings));

    /// <summary>A key of the actors' settings that only the file sets (no command-line option).</summary>
    private static Key Setting<T>(string name, Func<Config, string, T> read,
        Func<ClockBoundSettings, T, ClockBoundSettings> set, Func<ClockBoundSettings, string> render) =>
        Setting(name, (section, key, _) => read(section, key), set, render);

    /// <summary>A key of the host's own switches.</summary>
    private static Key HostSwitch<T>(string name, Func<Config, string, CommandLineOverrides, T> read,
        Func<EffectiveConfiguration, T, EffectiveConfiguration> set, Func<EffectiveConfiguration, string> render) =>
        new(name, (section, cli, c) => set(c, read(section, name, cli)), render);

    /// <summary>Every key, each once; blocks (<c>chrony.</c>, ...) stay together, as <see cref="Render"/> nests them.</summary>
    private static readonly Key[] Keys =
    [
        Setting("shm-path", PathOption(cli => cli.ShmPath, "--shm-path"), (s, v) => s with { ShmPath = v }, s => Quote(s.ShmPath)),
        Setting("chrony-socket", PathOption(cli => cli.ChronySocket, "--chrony-socket"), (s, v) => s with { ChronySocketPath = v }, s => Quote(s.ChronySocketPath)),
        Setting("chrony-client-socket-dir", (section, key, _) => NullIfEmpty(String(section, key)),
            (s, v) => s with { ChronyClientSocketDirectory = v }, s => Quote(s.ChronyClientSocketDirectory)),
        Setting("vmclock-path", PathOption(cli => cli.VmClockPath, "--vmclock-path"), (s, v) => s with { VmClockPath = v }, s => Quote(s.VmClockPath)),
        Setting("sysfs-root", PathOption(cli => cli.SysfsRoot, "--sysfs-root"), (s, v) => s with { SysfsRoot = v }, s => Quote(s.SysfsRoot)),
        Setting("max-drift-rate", DriftRatePpb, (s, v) => s with { MaxDriftPpb = v }, s => $"{s.MaxDriftPpb / 1000}"),
        Setting("clock-disruption-support", (section, key, cli) => !cli.DisableClockDisruptionSupport && Bool(section, key),
            (s, v) => s with { ClockDisruptionSupportEnabled = v }, s => OnOff(s.ClockDisruptionSupportEnabled)),
        Setting("phc-ref-id", PhcReferenceId, (s, v) => s with { PhcReferenceId = v },
            s => Quote(s.PhcReferenceId is { } id ? PhcRefId.Format(id) : "")),
        Setting("phc-interface", PhcInterfaceName, (s, v) => s with { PhcInterface = v }, s => Quote(s.PhcInterface)),
        // Validated only: chrony is the one source there is.
        HostSwitch("clock-error-bound-source", ErrorBoundSource, (c, _) => c, _ => "chrony"),
        HostSwitch("json-output", (section, key, cli) => cli.JsonOutput || Bool(section, key), (c, v) => c with { JsonOutput = v }, c => OnOff(c.JsonOutput)),
        HostSwitch("verbose", (section, key, cli) => cli.Verbose || Bool(section, key), (c, v) => c with { Verbose = v }, c => OnOff(c.Verbose)),
        HostSwitch("log-file", (section, key, _) => NullIfEmpty(String(section, key)), (c, v) => c with { LogFile = v }, c => Quote(c.LogFile)),
        HostSwitch("metrics-listen", MetricsEndPoint, (c, v) => c with { MetricsListen = v }, c => Quote(c.MetricsListen?.ToString())),
        Setting("chrony.poll-interval", Duration, (s, v) => s with { ChronyPollInterval = v }, s => Text(s.ChronyPollInterval)),
        Setting("chrony.timeout", Duration, (s, v) => s with { ChronyTimeout = v }, s => Text(s.ChronyTimeout)),
        Setting("chrony.restart-grace", Duration, (s, v) => s with { RestartGrace = v }, s => Text(s.RestartGrace)),
        Setting("chrony.stale-factor", PositiveDouble, (s, v) => s with { StaleFactor = v }, s => Text(s.StaleFactor)),
        Setting("chrony.reset-tries", PositiveInt, (s, v) => s with { ResetTries = v }, s => $"{s.ResetTries}"),
        Setting("chrony.reset-retry-interval", Duration, (s, v) => s with { ResetRetryInterval = v }, s => Text(s.ResetRetryInterval)),
        Setting("chrony.burst-tries", PositiveInt, (s, v) => s with { BurstTries = v }, s => $"{s.BurstTries}"),
        Setting("chrony.burst-retry-interval", Duration, (s, v) => s with { BurstRetryInterval = v }, s => Text(s.BurstRetryInterval)),
        Setting("chrony.burst-good-samples", PositiveInt, (s, v) => s with { BurstGoodSamples = v }, s => $"{s.BurstGoodSamples}"),
        Setting("chrony.burst-total-samples", PositiveInt, (s, v) => s with { BurstTotalSamples = v }, s => $"{s.BurstTotalSamples}"),
        Setting("chrony.reset-cooldown", Duration, (s, v) => s with { ResetCooldown = v }, s => Text(s.ResetCooldown)),
        Setting("vmclock.poll-interval", Duration, (s, v) => s with { VmClockPollInterval = v }, s => Text(s.VmClockPollInterval)),
        Setting("vmclock.heartbeat-interval", Duration, (s, v) => s with { VmClockHeartbeatInterval = v }, s => Text(s.VmClockHeartbeatInterval)),
        Setting("phc.read-interval", Duration, (s, v) => s with { PhcReadInterval = v }, s => Text(s.PhcReadInterval)),
        Setting("segment.void-after", Duration, (s, v) => s with { VoidAfter = v }, s => Text(s.VoidAfter)),
        Setting("supervision.min-backoff", Duration, (s, v) => s with { RestartBackoffMin = v }, s => Text(s.RestartBackoffMin)),
        Setting("supervision.max-backoff", Duration, (s, v) => s with { RestartBackoffMax = v }, s => Text(s.RestartBackoffMax)),
        Setting("supervision.random-factor", NonNegativeDouble, (s, v) => s with { RestartBackoffRandomFactor = v }, s => Text(s.RestartBackoffRandomFactor)),
    ];

    private static string Text(TimeSpan t) => t.TotalMilliseconds % 1000 == 0 ? $"{t.TotalSeconds:0}s" : $"{t.TotalMilliseconds:0.###}ms";

    private static string Text(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private static string Quote(string? value) => "\"" + (value ?? "").Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string OnOff(bool value) => value ? "on" : "off";

    private static uint DriftRatePpb(Config section, string key, CommandLineOverrides cli)
    {
        long ppm = cli.MaxDriftRatePpm ?? Int(section, key);
        string culprit = cli.MaxDriftRatePpm is null ? $"{Section}.{key}" : "--max-drift-rate";
        // Stored as ppb in a u32; clients reject >= 1e9 ppb, so 999_999 ppm is the largest meaningful value.
        if (ppm < 0 || ppm >= 1_000_000)
            throw new ConfigurationException($"{culprit}: must be an integer from 0 to 999999 ppm, got {ppm}");
        return checked((uint)(ppm * 1000));
    }

    private static uint? PhcReferenceId(Config section, string key, CommandLineOverrides cli)
    {
        if (NullIfEmpty(cli.PhcRefId ?? String(section, key)) is not { } text) return null;
        try { return PhcRefId.Parse(text); }
        catch (FormatException e) { throw new ConfigurationException($"--phc-ref-id: {e.Message}"); }
    }

    private static string? PhcInterfaceName(Config section, string key, CommandLineOverrides cli)
    {
        string? name = NullIfEmpty(cli.PhcInterface ?? String(section, key));
        if (name is not null && (name.Contains('/') || name is "." or ".."))
            throw new ConfigurationException($"--phc-interface: '{name}' is not a network interface name");
        return name;
    }

    private static string ErrorBoundSource(Config section, string key, CommandLineOverrides cli)
    {
        var source = cli.ClockErrorBoundSource ?? String(section, key);
        ValidateSource(source, cli.ClockErrorBoundSource is null ? $"{Section}.{key}" : "--clock-error-bound-source");
        return source;
    }

    private static System.Net.IPEndPoint? MetricsEndPoint(Config section, string key, CommandLineOverrides cli) =>
        ParseListen(cli.MetricsListen ?? String(section, key), cli.MetricsListen is null ? $"{Section}.{key}" : "--metrics-listen");

    private static Config LoadDefaults()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("clockbound.conf")
            ?? throw new InvalidOperationException("embedded clockbound.conf is missing from the build");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    private static Config ReadFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string why = e switch
            {
                FileNotFoundException or DirectoryNotFoundException => "no such file",
                UnauthorizedAccessException => "permission denied",
                _ => FirstLine(e.Message),
            };
            throw new ConfigurationException($"--config {path}: cannot read: {why}");
        }
        if (HoconStructure.FindImbalance(text) is { } imbalance)
            throw new ConfigurationException($"--config {path}: invalid HOCON: {imbalance}");
        Config parsed;
        try
        {
            parsed = ConfigurationFactory.ParseString(text);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigurationException($"--config {path}: invalid HOCON: {FirstLine(e.Message)}");
        }
        foreach (var key in parsed.Root.GetObject().Items.Keys)
        {
            if (key is not (Section or "akka"))
                throw new ConfigurationException($"--config {path}: unknown top-level key '{key}' (expected clockbound or akka)");
        }
        return parsed;
    }

    /// <summary>A misspelt key would otherwise be silently ignored: refuse keys under "clockbound" that the defaults lack.</summary>
    private static void RejectUnknownKeys(Config user, string file)
    {
        if (!user.HasPath(Section)) return;
        var known = new HashSet<string>(Leaves(Defaults.GetConfig(Section).Root, ""));
        foreach (var key in Leaves(user.GetConfig(Section).Root, ""))
        {
            if (!known.Contains(key))
                throw new ConfigurationException($"--config {file}: unknown key {Section}.{key}");
        }
    }

    private static IEnumerable<string> Leaves(HoconValue value, string prefix)
    {
        if (!value.IsObject())
        {
            yield return prefix;
            yield break;
        }
        foreach (var (key, child) in value.GetObject().Items)
        {
            foreach (var leaf in Leaves(child, prefix.Length == 0 ? key : $"{prefix}.{key}"))
                yield return leaf;
        }
    }

    private static void ValidateSource(string source, string culprit)
    {
        if (source.Equals("chrony", StringComparison.OrdinalIgnoreCase)) return;
        if (source.Equals("vmclock", StringComparison.OrdinalIgnoreCase))
            throw new ConfigurationException($"{culprit}: vmclock is not supported yet (use chrony)");
        throw new ConfigurationException($"{culprit}: '{source}' is not a valid source (chrony or vmclock)");
    }

    /// <summary>A path that the command line's <paramref name="option"/> overrides; neither empty nor holding a NUL.</summary>
    private static Func<Config, string, CommandLineOverrides, string> PathOption(Func<CommandLineOverrides, string?> fromCli, string option) =>
        (section, key, cli) =>
        {
            string? given = fromCli(cli);
            string value = given ?? String(section, key);
            string culprit = given is null ? $"{Section}.{key}" : option;
            if (string.IsNullOrWhiteSpace(value))
                throw new ConfigurationException($"{culprit}: must not be empty");
            if (value.Contains('\0'))
                throw new ConfigurationException($"{culprit}: contains a NUL character");
            return value;
        };

    /// <summary>"ADDRESS:PORT" (IPv6 in brackets) or empty for none. A host name is refused: the address bound must be explicit.</summary>
    private static System.Net.IPEndPoint? ParseListen(string value, string culprit)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (!System.Net.IPEndPoint.TryParse(value, out var endPoint) || endPoint.Port == 0 || !value.Contains(':')
            || (endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !value.StartsWith('[')))
            throw new ConfigurationException($"{culprit}: '{value}' is not ADDRESS:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)");
        return endPoint;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static T Get<T>(Config section, string key, Func<string, T> read)
    {
        try
        {
            if (!section.HasPath(key)) throw new ConfigurationException($"{Section}.{key}: missing");
            return read(key);
        }
        catch (ConfigurationException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigurationException($"{Section}.{key}: invalid value '{Raw(section, key)}' ({FirstLine(e.Message)})");
        }
    }

    private static string Raw(Config section, string key)
    {
        try { return section.GetValue(key)?.ToString() ?? ""; }
        catch (Exception e) when (e is not OutOfMemoryException) { return "?"; }
    }

    private static string String(Config section, string key) => Get(section, key, k => section.GetString(k) ?? "");

    private static bool Bool(Config section, string key) => Get(section, key, k =>
    {
        string raw = section.GetString(k) ?? "";
        return raw.ToLowerInvariant() switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw new FormatException("expected on or off"),
        };
    });

    private static long Int(Config section, string key) => Get(section, key, k => long.Parse(section.GetString(k) ?? "",
        System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture));

    private static int PositiveInt(Config section, string key)
    {
        long value = Int(section, key);
        if (value <= 0 || value > int.MaxValue)
            throw new ConfigurationException($"{Section}.{key}: must be a positive integer, got {value}");
        return (int)value;
    }

    private static double NonNegativeDouble(Config section, string key)
    {
        double value = Get(section, key, k => double.Parse(section.GetString(k) ?? "", System.Globalization.CultureInfo.InvariantCulture));
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ConfigurationException($"{Section}.{key}: must be a number >= 0, got {value}");
        return value;
    }

    private static double PositiveDouble(Config section, string key)
    {
        double value = NonNegativeDouble(section, key);
        if (value == 0)
            throw new ConfigurationException($"{Section}.{key}: must be greater than 0, got {value}");
        return value;
    }

    private static TimeSpan Duration(Config section, string key)
    {
        string raw = Raw(section, key);
        TimeSpan value = Get(section, key, k => section.GetTimeSpan(k, null, allowInfinite: false));
        if (value <= TimeSpan.Zero)
            throw new ConfigurationException($"{Section}.{key}: must be a positive duration, got '{raw}'");
        return value;
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
