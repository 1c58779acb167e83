using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ClockBound.Host.Logging;

/// <summary>One Serilog pipeline for the host, Microsoft.Extensions.Logging and Akka (via Akka.Logger.Serilog).</summary>
public static class LoggingSetup
{
    public const string HumanTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}";
    // Serilog's plain formatter (used for the log file) takes "l" (no quotes around strings) but not "j".
    private const string FileTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} {Level:u3} {SourceContext}: {Message:l}{NewLine}{Exception}";

    /// <summary>The daemon's logger: stdout, and <paramref name="logFile"/> when given (reopened on SIGHUP via the returned sink).</summary>
    public static Logger Create(bool json, bool verbose, ReopenableFileSink? logFile = null)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        // stdout: journald captures it when run by systemd.
        configuration = json
            ? configuration.WriteTo.Console(new CompactJsonFormatter())
            : configuration.WriteTo.Console(outputTemplate: HumanTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        if (logFile is not null)
            configuration = configuration.WriteTo.Sink(logFile);
        return configuration.CreateLogger();
    }

    /// <summary>The line format of the chosen style, for sinks other than the console.</summary>
    public static Serilog.Formatting.ITextFormatter Formatter(bool json) => json
        ? new CompactJsonFormatter()
        : new Serilog.Formatting.Display.MessageTemplateTextFormatter(FileTemplate, System.Globalization.CultureInfo.InvariantCulture);
}
