using System.Net.Sockets;
using System.Text;

namespace ClockBound.Io.Systemd;

/// <summary>
/// systemd's notify protocol (sd_notify): datagrams such as <c>READY=1</c> and <c>WATCHDOG=1</c> sent to the
/// Unix socket named by <c>$NOTIFY_SOCKET</c> (a leading '@' means the abstract namespace).
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endPoint;

    private SystemdNotifier(string socketPath, TimeSpan? watchdogInterval)
    {
        SocketPath = socketPath;
        WatchdogInterval = watchdogInterval;
        _endPoint = new UnixDomainSocketEndPoint(socketPath.StartsWith('@') ? "\0" + socketPath[1..] : socketPath);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public string SocketPath { get; }

    /// <summary>$WATCHDOG_USEC when set for this process (WATCHDOG_PID absent or ours); null when no watchdog is asked for.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>The notifier systemd asked for, or null when not started by systemd with Type=notify.</summary>
    public static SystemdNotifier? FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        string? socket = getVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(socket) || (socket[0] != '/' && socket[0] != '@'))
            return null;
        TimeSpan? watchdog = null;
        string? pid = getVariable("WATCHDOG_PID");
        if (ulong.TryParse(getVariable("WATCHDOG_USEC"), out ulong usec) && usec > 0
            && (string.IsNullOrEmpty(pid) || pid == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            watchdog = TimeSpan.FromMicroseconds(usec);
        }
        return new SystemdNotifier(socket, watchdog);
    }

    /// <summary>Sends one state datagram (e.g. "READY=1"). A missing or full socket is not an error for the daemon:
    /// returns false and the caller logs.</summary>
    public bool Notify(string state)
    {
        try
        {
            return _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endPoint) > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
