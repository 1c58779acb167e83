using System.Reflection;
using Akka.Hosting;
using Akka.Logger.Serilog;
using ClockBound.Actors;
using ClockBound.Actors.Hosting;
using ClockBound.Actors.StateMachine;
using ClockBound.Io.Segment;
using ClockBound.Actors.Metrics;
using ClockBound.Actors.Systemd;
using ClockBound.Host.Configuration;
using ClockBound.Host.Logging;
using ClockBound.Io.Systemd;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;

namespace ClockBound.Host.Daemon;

/// <summary>Loads the configuration, checks the environment, and runs the actor system until SIGTERM/SIGINT.</summary>
internal static class DaemonRunner
{
    public static async Task<int> RunAsync(CommandLineOverrides overrides, bool checkOnly, TextWriter stdout, CancellationToken cancellationToken)
    {
        EffectiveConfiguration config = ConfigurationLoader.Load(overrides);
        if (checkOnly)
        {
            await stdout.WriteLineAsync(ConfigurationLoader.Render(config));
            return ExitCodes.Success;
        }

        ReopenableFileSink? logFile;
        try
        {
            logFile = config.LogFile is { } path ? new ReopenableFileSink(path, LoggingSetup.Formatter(config.JsonOutput)) : null;
        }
        catch (StartupException e)
        {
            // No file to log to: the console alone reports it, as every other fatal start-up error (stdout).
            using var console = LoggingSetup.Create(config.JsonOutput, config.Verbose);
            console.ForContext("SourceContext", "clockbound").Fatal("{Reason}", e.Message);
            return ExitCodes.StartupFailure;
        }
        using var fileSink = logFile;
        using var logger = LoggingSetup.Create(config.JsonOutput, config.Verbose, logFile);
        // Akka.Logger.Serilog writes through the static logger.
        Log.Logger = logger;
        var log = logger.ForContext("SourceContext", "clockbound");
        if (config.MaxDriftRateIsDefault)
            log.Warning("--max-drift-rate not given: using the default of 1 ppm, which is likely too small for this clock; set it (e.g. 50, with chrony's maxclockerror 50)");

        ClockBoundMetrics? metrics = null;
        using var metricServer = config.MetricsListen is { } listen ? StartMetrics(listen, out metrics, log) : null;
        if (config.MetricsListen is not null && metricServer is null)
            return ExitCodes.StartupFailure;

        SegmentWriter segment;
        try
        {
            segment = Preflight.Check(config.Settings, log);
        }
        catch (StartupException e)
        {
            log.Fatal("{Reason}", e.Message);
            return ExitCodes.StartupFailure;
        }
        // What the previous run left, read when the segment was opened and locked, before anything was written; the
        // segment stays open (and locked) for the writer actor.
        var previous = PreviousRun.From(segment.Previous);
        log.Information("Segment {Path}: {Previous}", config.Settings.ShmPath, previous.Description);

        using var notifier = SystemdNotifier.FromEnvironment();
        Action? reopenLogs = logFile is null ? null : () =>
        {
            logFile.Reopen();
            log.Information("Log file {Path} reopened", config.LogFile);
        };
        using IHost host = Build(config, logger, notifier, reopenLogs, metrics, previous, new OpenedSegment(segment));
        log.Information("clockbound {Version} publishing to {ShmPath} (chrony {Socket}, disruption support {Disruption}, max drift {Drift} ppb)",
            InformationalVersion, config.Settings.ShmPath, config.Settings.ChronySocketPath,
            config.Settings.ClockDisruptionSupportEnabled ? "on" : "off", config.Settings.MaxDriftPpb);
        await host.RunAsync(cancellationToken);
        log.Information("clockbound stopped");
        return ExitCodes.Success;
    }

    /// <summary>The version <c>clockbound --version</c> prints (e.g. <c>0.1.0+COMMIT</c>), not the four-part assembly version.</summary>
    private static string InformationalVersion =>
        typeof(DaemonRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(DaemonRunner).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Binds the metrics endpoint before anything else runs, so a taken port fails the start clearly.</summary>
    private static Prometheus.MetricServer? StartMetrics(System.Net.IPEndPoint listen, out ClockBoundMetrics? metrics, Serilog.ILogger log)
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        metrics = new ClockBoundMetrics(registry);
        // The runtime's own figures next to the daemon's (dotnet_total_memory_bytes, dotnet_collection_count_total,
        // process_*): what an operator watches for a leak over months, read only when scraped.
        Prometheus.DotNetStats.Register(registry);
        string host = listen.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{listen.Address}]" : listen.Address.ToString();
        var server = new Prometheus.MetricServer(host, listen.Port, "metrics/", registry);
        try
        {
            server.Start();
        }
        catch (Exception e) when (e is System.Net.HttpListenerException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            log.Fatal("--metrics-listen {Listen}: cannot listen: {Reason}", listen, e.Message);
            server.Dispose();
            metrics = null;
            return null;
        }
        log.Information("Serving metrics on http://{Listen}/metrics", listen);
        return server;
    }

    private static IHost Build(EffectiveConfiguration config, Serilog.Core.Logger logger, SystemdNotifier? notifier, Action? reopenLogs,
        ClockBoundMetrics? metrics, PreviousRun previous, OpenedSegment segment)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, Args = [] });
        builder.Logging.ClearProviders().AddSerilog(logger);
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddAkka("clockbound", (akka, _) =>
        {
            akka.AddHocon(config.Hocon, HoconAddMode.Prepend)
                .ConfigureLoggers(loggers =>
                {
                    loggers.LogLevel = config.Verbose ? Akka.Event.LogLevel.DebugLevel : Akka.Event.LogLevel.InfoLevel;
                    loggers.ClearLoggers();
                    loggers.AddLogger<SerilogLogger>();
                })
                .WithClockBoundActors(config.Settings, previous, segment, reopenLogs);
            if (metrics is not null)
                akka.WithActors((system, _) => system.ActorOf(MetricsActor.Props(metrics), "metrics"));
            if (notifier is not null)
                akka.WithActors((system, _) => system.ActorOf(SystemdNotifierActor.Props(notifier), "systemd-notifier"));
        });
        return builder.Build();
    }
}
