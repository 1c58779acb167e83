using System.Net.Sockets;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>A real Unix datagram socket standing in for chronyd to send hostile replies: it receives the client's
/// request and answers with whatever datagrams a test scripts.</summary>
internal sealed class FakeChronydSocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    public FakeChronydSocket(string path)
    {
        Path = path;
        _socket.Bind(new UnixDomainSocketEndPoint(path));
    }

    public string Path { get; }

    /// <summary>Waits (at most 5 s) for the next request datagram.</summary>
    public async Task<byte[]> ReceiveRequestAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var buffer = new byte[1024];
        var length = await _socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        return buffer[..length];
    }

    /// <summary>Sends one datagram to the client bound at <paramref name="clientPath"/>.</summary>
    public async Task SendAsync(byte[] datagram, string clientPath) =>
        await _socket.SendToAsync(datagram, SocketFlags.None, new UnixDomainSocketEndPoint(clientPath));

    public void Dispose()
    {
        _socket.Dispose();
        File.Delete(Path);
    }
}
