using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ClockBound.Host.Logging;

/// <summary>One Serilog pipeline for the host, Microsoft.Extensions.Logging and Akka (via Akka.Logger.Serilog).</summary>
public static class LoggingSetup
{
    public const string HumanTemplate = "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static Logger Create(bool json, bool verbose)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.FromLogContext();
        // stdout: journald captures it when run by systemd.
        configuration = json
            ? configuration.WriteTo.Console(new CompactJsonFormatter())
            : configuration.WriteTo.Console(outputTemplate: HumanTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
        return configuration.CreateLogger();
    }
}
