using System.Net;
using System.Net.Sockets;

namespace ClockBound.TestSupport;

/// <summary>Ports on 127.0.0.1 for the servers a test starts (the daemon's metrics endpoint, Prometheus).</summary>
public static class LocalPorts
{
    /// <summary>A TCP port on 127.0.0.1 that the kernel has just handed out as free (bound to port 0 and let go).</summary>
    public static int FreeTcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
