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

        var source = cli.ClockErrorBoundSource ?? String(section, "clock-error-bound-source");
        ValidateSource(source, cli.ClockErrorBoundSource is null ? $"{Section}.clock-error-bound-source" : "--clock-error-bound-source");

        long driftPpm = cli.MaxDriftRatePpm ?? Int(section, "max-drift-rate");
        string driftCulprit = cli.MaxDriftRatePpm is null ? $"{Section}.max-drift-rate" : "--max-drift-rate";
        // Stored as ppb in a u32; clients reject >= 1e9 ppb, so 999_999 ppm is the largest meaningful value.
        if (driftPpm < 0 || driftPpm >= 1_000_000)
            throw new ConfigurationException($"{driftCulprit}: must be an integer from 0 to 999999 ppm, got {driftPpm}");

        string? phcRefIdText = NullIfEmpty(cli.PhcRefId ?? String(section, "phc-ref-id"));
        string? phcInterface = NullIfEmpty(cli.PhcInterface ?? String(section, "phc-interface"));
        if ((phcRefIdText is null) != (phcInterface is null))
            throw new ConfigurationException(phcRefIdText is null
                ? "--phc-interface requires --phc-ref-id (both or neither)"
                : "--phc-ref-id requires --phc-interface (both or neither)");
        uint? phcRefId = null;
        if (phcRefIdText is not null)
        {
            try { phcRefId = PhcRefId.Parse(phcRefIdText); }
            catch (FormatException e) { throw new ConfigurationException($"--phc-ref-id: {e.Message}"); }
        }
        if (phcInterface is not null && (phcInterface.Contains('/') || phcInterface is "." or ".."))
            throw new ConfigurationException($"--phc-interface: '{phcInterface}' is not a network interface name");

        var settings = new ClockBoundSettings
        {
            ShmPath = Path(cli.ShmPath, section, "shm-path", "--shm-path"),
            ChronySocketPath = Path(cli.ChronySocket, section, "chrony-socket", "--chrony-socket"),
            ChronyClientSocketDirectory = NullIfEmpty(String(section, "chrony-client-socket-dir")),
            VmClockPath = Path(cli.VmClockPath, section, "vmclock-path", "--vmclock-path"),
            SysfsRoot = Path(cli.SysfsRoot, section, "sysfs-root", "--sysfs-root"),
            MaxDriftPpb = checked((uint)(driftPpm * 1000)),
            ClockDisruptionSupportEnabled = !cli.DisableClockDisruptionSupport && Bool(section, "clock-disruption-support"),
            PhcReferenceId = phcRefId,
            PhcInterface = phcInterface,
            ChronyPollInterval = Duration(section, "chrony.poll-interval"),
            ChronyTimeout = Duration(section, "chrony.timeout"),
            RestartGrace = Duration(section, "chrony.restart-grace"),
            StaleFactor = PositiveDouble(section, "chrony.stale-factor"),
            ResetTries = PositiveInt(section, "chrony.reset-tries"),
            ResetRetryInterval = Duration(section, "chrony.reset-retry-interval"),
            BurstTries = PositiveInt(section, "chrony.burst-tries"),
            BurstRetryInterval = Duration(section, "chrony.burst-retry-interval"),
            BurstGoodSamples = PositiveInt(section, "chrony.burst-good-samples"),
            BurstTotalSamples = PositiveInt(section, "chrony.burst-total-samples"),
            ResetCooldown = Duration(section, "chrony.reset-cooldown"),
            VmClockPollInterval = Duration(section, "vmclock.poll-interval"),
            VmClockHeartbeatInterval = Duration(section, "vmclock.heartbeat-interval"),
            PhcReadInterval = Duration(section, "phc.read-interval"),
            VoidAfter = Duration(section, "segment.void-after"),
            RestartBackoffMin = Duration(section, "supervision.min-backoff"),
            RestartBackoffMax = Duration(section, "supervision.max-backoff"),
            RestartBackoffRandomFactor = NonNegativeDouble(section, "supervision.random-factor"),
        };
        if (settings.BurstGoodSamples > settings.BurstTotalSamples)
            throw new ConfigurationException($"{Section}.chrony.burst-good-samples: {settings.BurstGoodSamples} is more than burst-total-samples {settings.BurstTotalSamples}");
        if (settings.RestartBackoffMin > settings.RestartBackoffMax)
            throw new ConfigurationException($"{Section}.supervision.min-backoff: {settings.RestartBackoffMin} is more than max-backoff {settings.RestartBackoffMax}");

        bool driftIsDefault = cli.MaxDriftRatePpm is null && !user.HasPath($"{Section}.max-drift-rate");
        return new EffectiveConfiguration(
            settings,
            JsonOutput: cli.JsonOutput || Bool(section, "json-output"),
            Verbose: cli.Verbose || Bool(section, "verbose"),
            MaxDriftRateIsDefault: driftIsDefault,
            LogFile: NullIfEmpty(String(section, "log-file")),
            MetricsListen: ParseListen(cli.MetricsListen ?? String(section, "metrics-listen"),
                cli.MetricsListen is null ? $"{Section}.metrics-listen" : "--metrics-listen"),
            Hocon: merged);
    }

    /// <summary>The effective configuration as HOCON (for --check-config).</summary>
    public static string Render(EffectiveConfiguration config)
    {
        var s = config.Settings;
        static string D(TimeSpan t) => t.TotalMilliseconds % 1000 == 0 ? $"{t.TotalSeconds:0}s" : $"{t.TotalMilliseconds:0.###}ms";
        static string Q(string? v) => "\"" + (v ?? "").Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
        return string.Join('\n',
            "clockbound {",
            $"  shm-path = {Q(s.ShmPath)}",
            $"  chrony-socket = {Q(s.ChronySocketPath)}",
            $"  chrony-client-socket-dir = {Q(s.ChronyClientSocketDirectory)}",
            $"  vmclock-path = {Q(s.VmClockPath)}",
            $"  sysfs-root = {Q(s.SysfsRoot)}",
            $"  max-drift-rate = {s.MaxDriftPpb / 1000}",
            $"  clock-disruption-support = {(s.ClockDisruptionSupportEnabled ? "on" : "off")}",
            $"  phc-ref-id = {Q(s.PhcReferenceId is { } id ? PhcRefId.Format(id) : "")}",
            $"  phc-interface = {Q(s.PhcInterface)}",
            "  clock-error-bound-source = chrony",
            $"  json-output = {(config.JsonOutput ? "on" : "off")}",
            $"  verbose = {(config.Verbose ? "on" : "off")}",
            $"  log-file = {Q(config.LogFile)}",
            $"  metrics-listen = {Q(config.MetricsListen?.ToString())}",
            $"  chrony {{ poll-interval = {D(s.ChronyPollInterval)}, timeout = {D(s.ChronyTimeout)}, restart-grace = {D(s.RestartGrace)}, stale-factor = {s.StaleFactor} }}",
            $"  chrony {{ reset-tries = {s.ResetTries}, reset-retry-interval = {D(s.ResetRetryInterval)}, burst-tries = {s.BurstTries}, burst-retry-interval = {D(s.BurstRetryInterval)} }}",
            $"  chrony {{ burst-good-samples = {s.BurstGoodSamples}, burst-total-samples = {s.BurstTotalSamples}, reset-cooldown = {D(s.ResetCooldown)} }}",
            $"  vmclock {{ poll-interval = {D(s.VmClockPollInterval)}, heartbeat-interval = {D(s.VmClockHeartbeatInterval)} }}",
            $"  phc {{ read-interval = {D(s.PhcReadInterval)} }}",
            $"  segment {{ void-after = {D(s.VoidAfter)} }}",
            $"  supervision {{ min-backoff = {D(s.RestartBackoffMin)}, max-backoff = {D(s.RestartBackoffMax)}, random-factor = {s.RestartBackoffRandomFactor} }}",
            "}");
    }

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

    private static string Path(string? cli, Config section, string key, string option)
    {
        string value = cli ?? String(section, key);
        string culprit = cli is null ? $"{Section}.{key}" : option;
        if (string.IsNullOrWhiteSpace(value))
            throw new ConfigurationException($"{culprit}: must not be empty");
        if (value.Contains('\0'))
            throw new ConfigurationException($"{culprit}: contains a NUL character");
        return value;
    }

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
