using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace ClockBound.Host.Logging;

/// <summary>
/// Appends log events to a file and reopens it on request (SIGHUP), so that logrotate can move the file away:
/// the next event goes to a new file at the same path. Thread-safe.
/// </summary>
public sealed class ReopenableFileSink : ILogEventSink, IDisposable
{
    private readonly string _path;
    private readonly ITextFormatter _formatter;
    private readonly Lock _lock = new();
    private StreamWriter _writer;

    public ReopenableFileSink(string path, ITextFormatter formatter)
    {
        _path = path;
        _formatter = formatter;
        _writer = Open(path);
    }

    public void Emit(LogEvent logEvent)
    {
        lock (_lock) _formatter.Format(logEvent, _writer);
    }

    /// <summary>Closes the current file and opens the path again (creating it if it was moved away).</summary>
    public void Reopen()
    {
        var fresh = Open(_path);
        lock (_lock)
        {
            _writer.Dispose();
            _writer = fresh;
        }
    }

    public void Dispose()
    {
        lock (_lock) _writer.Dispose();
    }

    private static StreamWriter Open(string path)
    {
        try
        {
            if (Path.GetDirectoryName(path) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
            var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Daemon.StartupException(Directory.Exists(path)
                ? $"log file {path} is a directory" // .NET says "Access to the path is denied", even to root
                : e is UnauthorizedAccessException
                    ? $"log file {path} is not writable (permission denied)"
                    : $"log file {path} cannot be opened for appending: {e.Message}", e);
        }
    }
}
