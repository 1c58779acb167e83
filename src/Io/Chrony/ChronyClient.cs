using System.Net.Sockets;

namespace ClockBound.Io.Chrony;

/// <summary>
/// chronyd's command protocol over its Unix datagram socket: tracking, reset sources, burst.
/// Binds its own socket (unique name in <c>clientSocketDirectory</c>, default the directory of chronyd's
/// socket) and unlinks it on dispose. One request at a time per client.
/// </summary>
public sealed class ChronyClient : IDisposable
{
    /// <summary>1 s per attempt, as chronyc.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);

    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    private const int MaxSocketPathBytes = 107;

    /// <summary>Larger than any reply of the three commands, so an oversized reply is seen as such instead of truncated to fit.</summary>
    private const int ReceiveBufferSize = 1024;

    /// <summary>At most this many datagrams are read by one <see cref="TryReceiveTracking"/>: a peer that floods the
    /// socket with stray datagrams cannot hold the caller (the daemon's event loop runs all actors on one thread); the
    /// rest wait for the next call. chronyd itself sends one reply per request.</summary>
    internal const int MaxDatagramsPerLook = 32;

    private Socket? _socket;
    private readonly TimeSpan _timeout;
    private readonly byte[] _request = new byte[ChronyCommand.MaxRequestLength];
    private readonly byte[] _reply = new byte[ReceiveBufferSize];
    private int _busy;
    /// <summary>The sequence number of the tracking request <see cref="SendTracking"/> sent, until its reply is received
    /// or a call fails; null otherwise.</summary>
    private uint? _pendingTracking;
    private bool _disposed;
    /// <summary>The reference address of the last tracking reply, reused by the next one while it is the same.</summary>
    private System.Net.IPAddress? _lastReferenceAddress;

    private ChronyClient(Socket socket, string socketPath, string chronySocketPath, TimeSpan timeout)
    {
        _socket = socket;
        SocketPath = socketPath;
        ChronySocketPath = chronySocketPath;
        _timeout = timeout;
    }

    /// <summary>Our own bound socket, <c>&lt;dir&gt;/clockbound.&lt;pid&gt;.&lt;random&gt;.sock</c>; unlinked on dispose.</summary>
    public string SocketPath { get; }

    /// <summary>chronyd's command socket.</summary>
    public string ChronySocketPath { get; }

    /// <summary>Creates and binds the client socket and connects to chronyd's socket. Throws <see cref="ChronyException"/>.
    /// <paramref name="timeout"/> limits each request (default <see cref="DefaultTimeout"/>); with
    /// <see cref="Timeout.InfiniteTimeSpan"/> only the caller's cancellation token does, and the client arms no timer of
    /// its own. <see cref="SendTracking"/> and <see cref="TryReceiveTracking"/> never wait, so no timeout applies to them:
    /// their caller keeps the time (the daemon's poller, with a timer on its event loop).</summary>
    public static ChronyClient Connect(string chronySocketPath, string? clientSocketDirectory = null, TimeSpan? timeout = null)
    {
        chronySocketPath = Path.GetFullPath(chronySocketPath);
        var directory = clientSocketDirectory ?? Path.GetDirectoryName(chronySocketPath)!;
        var clientPath = Path.Combine(Path.GetFullPath(directory), $"clockbound.{Environment.ProcessId}.{Random.Shared.Next():x8}.sock");
        CheckPathLength(chronySocketPath, chronySocketPath);
        CheckPathLength(clientPath, chronySocketPath);

        return new ChronyClient(Open(clientPath, chronySocketPath), clientPath, chronySocketPath, timeout ?? DefaultTimeout);
    }

    /// <summary>Asks for chronyd's tracking state. Throws <see cref="ChronyException"/>.</summary>
    public async Task<TrackingReply> GetTrackingAsync(CancellationToken cancellationToken = default)
    {
        EnterRequest();
        try
        {
            var sequence = NextSequence();
            var length = ChronyRequests.WriteTracking(_request, sequence);
            await ExchangeAsync(ChronyCommand.Tracking, sequence, length, cancellationToken).ConfigureAwait(false);
            return ParseTracking();
        }
        finally
        {
            ExitRequest();
        }
    }

    /// <summary>
    /// Sends a tracking request without waiting for anything (the socket never blocks) and returns its sequence number;
    /// <see cref="TryReceiveTracking"/> collects the reply. For a caller that keeps its own time: no timeout applies, and
    /// the request stays in flight (no other request can start) until its reply is received, a call fails, or the client
    /// is disposed. Throws <see cref="ChronyException"/>.
    /// </summary>
    public uint SendTracking()
    {
        EnterRequest();
        try
        {
            var sequence = NextSequence();
            var length = ChronyRequests.WriteTracking(_request, sequence);
            Send(length);
            _pendingTracking = sequence;
            return sequence;
        }
        catch
        {
            ExitRequest();
            throw;
        }
    }

    /// <summary>
    /// The reply to the tracking request <paramref name="sequence"/> from <see cref="SendTracking"/>, if it has arrived:
    /// reads the datagrams waiting on the socket without blocking, skipping stray ones (a late reply to an earlier
    /// request), at most <see cref="MaxDatagramsPerLook"/> of them. False if the reply is not there yet. Throws
    /// <see cref="ChronyException"/> for a socket error or an invalid reply, which ends the request, and
    /// <see cref="InvalidOperationException"/> when no tracking request with
    /// this sequence number is in flight (never sent, already received, or ended by a failure).
    /// </summary>
    public bool TryReceiveTracking(uint sequence, out TrackingReply reply)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_pendingTracking != sequence)
            throw new InvalidOperationException($"chrony client {SocketPath} has no tracking request {sequence} in flight");
        try
        {
            for (int read = 0; read < MaxDatagramsPerLook; read++)
            {
                var received = _socket!.Receive(_reply, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock) break;
                if (error != SocketError.Success) throw MapSocketError(new SocketException((int)error), ChronySocketPath, ChronySocketPath);
                if (!ChronyReplyValidator.IsValidReply(_reply.AsSpan(0, received), ChronyCommand.Tracking, sequence, ChronySocketPath)) continue;
                reply = ParseTracking();
                EndTracking();
                return true;
            }
            reply = default;
            return false;
        }
        catch
        {
            EndTracking();
            throw;
        }
    }

    /// <summary>Drops all measurements of all sources (chrony >= 4.0). Throws <see cref="ChronyException"/>.</summary>
    public async Task ResetSourcesAsync(CancellationToken cancellationToken = default)
    {
        EnterRequest();
        try
        {
            var sequence = NextSequence();
            var length = ChronyRequests.WriteResetSources(_request, sequence);
            await ExchangeAsync(ChronyCommand.ResetSources, sequence, length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ExitRequest();
        }
    }

    /// <summary>Asks all NTP sources for a burst of samples. Throws <see cref="ChronyException"/> (NoSuchSource without NTP sources).</summary>
    public async Task BurstAsync(int goodSamples = 4, int totalSamples = 8, CancellationToken cancellationToken = default)
    {
        EnterRequest();
        try
        {
            var sequence = NextSequence();
            var length = ChronyRequests.WriteBurst(_request, sequence, goodSamples, totalSamples);
            await ExchangeAsync(ChronyCommand.Burst, sequence, length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ExitRequest();
        }
    }

    private TrackingReply ParseTracking()
    {
        try
        {
            var reply = TrackingReply.ReadFrom(_reply, _lastReferenceAddress);
            _lastReferenceAddress = reply.ReferenceAddress ?? _lastReferenceAddress;
            return reply;
        }
        catch (InvalidDataException e)
        {
            throw new ChronyException(ChronyErrorKind.InvalidReply, ChronySocketPath,
                $"chronyd at {ChronySocketPath} sent an invalid tracking reply: {e.Message}", e);
        }
    }

    /// <summary>Closes the socket and unlinks <see cref="SocketPath"/>.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _socket?.Dispose();
        TryDelete(SocketPath);
    }

    /// <summary>Sends the request in <see cref="_request"/> and waits until the reply to it is in <see cref="_reply"/>,
    /// ignoring stray datagrams, until the timeout.</summary>
    private async Task ExchangeAsync(ChronyCommand command, uint sequence, int requestLength, CancellationToken cancellationToken)
    {
        // Without a timeout of its own (InfiniteTimeSpan) the caller's token is the only limit: no .NET timer is armed.
        using var deadline = _timeout == Timeout.InfiniteTimeSpan ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline?.CancelAfter(_timeout);
        var token = deadline?.Token ?? cancellationToken;
        try
        {
            await SendAsync(requestLength, token).ConfigureAwait(false);
            while (true)
            {
                var received = await _socket!.ReceiveAsync(_reply, SocketFlags.None, token).ConfigureAwait(false);
                if (ChronyReplyValidator.IsValidReply(_reply.AsSpan(0, received), command, sequence, ChronySocketPath)) return;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ChronyException(ChronyErrorKind.Timeout, ChronySocketPath,
                $"chronyd at {ChronySocketPath} did not answer {command.Name} within {_timeout.TotalMilliseconds:0} ms");
        }
        catch (SocketException e)
        {
            throw MapSocketError(e, ChronySocketPath, ChronySocketPath);
        }
    }

    /// <summary>
    /// Sends the request. A connected datagram socket stays tied to the socket chronyd had when we connected: once that
    /// chronyd is gone the send is refused and the socket is left disconnected, so open a fresh one (same path) and retry
    /// once; that reaches a restarted chronyd, or reports it missing.
    /// </summary>
    private async ValueTask SendAsync(int length, CancellationToken cancellationToken)
    {
        try
        {
            _socket ??= Open(SocketPath, ChronySocketPath);
            await _socket.SendAsync(_request.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (ChronydWentAway(e))
        {
            await Reopen().SendAsync(_request.AsMemory(0, length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the request in <see cref="_request"/> without blocking, reconnecting once as <see cref="SendAsync"/> does.
    /// A full queue at chronyd's socket (chronyd is not reading) fails at once instead of waiting.</summary>
    private void Send(int length)
    {
        try
        {
            try
            {
                _socket ??= Open(SocketPath, ChronySocketPath);
                SendOnce(length);
            }
            catch (SocketException e) when (ChronydWentAway(e))
            {
                Reopen();
                SendOnce(length);
            }
        }
        catch (SocketException e)
        {
            throw MapSocketError(e, ChronySocketPath, ChronySocketPath);
        }
    }

    /// <summary>The send was refused because the chronyd our socket is connected to is gone (see <see cref="SendAsync"/>).</summary>
    private static bool ChronydWentAway(SocketException e) =>
        e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.NotConnected;

    /// <summary>Replaces our socket by a fresh one at the same path, connected to chronyd's socket as it is now.</summary>
    private Socket Reopen()
    {
        _socket?.Dispose();
        _socket = null; // stays null if Open throws: the next request opens again
        return _socket = Open(SocketPath, ChronySocketPath);
    }

    private void SendOnce(int length)
    {
        _socket!.Send(_request.AsSpan(0, length), SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
            throw new ChronyException(ChronyErrorKind.Timeout, ChronySocketPath,
                $"chronyd at {ChronySocketPath} is not taking requests (its socket's queue is full)");
        if (error != SocketError.Success) throw new SocketException((int)error);
    }

    /// <summary>Creates the client socket, binds it to <paramref name="clientPath"/> and connects it to chronyd's socket.</summary>
    private static Socket Open(string clientPath, string chronySocketPath)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            Bind(socket, clientPath, chronySocketPath);
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(chronySocketPath));
                // The synchronous calls (SendTracking, TryReceiveTracking) must never wait; the asynchronous ones do not mind.
                socket.Blocking = false;
            }
            catch (SocketException e)
            {
                TryDelete(clientPath);
                throw MapSocketError(e, chronySocketPath, chronySocketPath);
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void Bind(Socket socket, string clientPath, string chronySocketPath)
    {
        TryDelete(clientPath);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(clientPath));
        }
        catch (SocketException e)
        {
            // Without the directory of chronyd's socket there is no chronyd to talk to either: say so rather than ENOENT on our path.
            if (e.SocketErrorCode != SocketError.AccessDenied && !File.Exists(chronySocketPath)) throw MapSocketError(e, chronySocketPath, chronySocketPath);
            throw MapSocketError(e, clientPath, chronySocketPath);
        }

        // chronyd may run as another user (chrony/_chrony) and must be able to send its reply to us, as chronyc does.
        File.SetUnixFileMode(clientPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead |
                                         UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
    }

    /// <summary>
    /// Turns a socket error on <paramref name="culpritPath"/> (chronyd's socket or our own) into a typed error. .NET reports
    /// both ENOENT and ECONNREFUSED from connecting a Unix socket as AddressNotAvailable, so whether chronyd's socket
    /// file exists tells the two apart; EACCES and EPERM both arrive as AccessDenied.
    /// </summary>
    private static ChronyException MapSocketError(SocketException e, string culpritPath, string chronySocketPath)
    {
        var user = Environment.UserName;
        return e.SocketErrorCode switch
        {
            SocketError.AddressNotAvailable or SocketError.ConnectionRefused or SocketError.NotConnected when culpritPath == chronySocketPath =>
                new ChronyException(ChronyErrorKind.SocketMissing, chronySocketPath, File.Exists(chronySocketPath)
                    ? $"chronyd socket {chronySocketPath} refuses connections: is chronyd running?"
                    : $"chronyd socket {chronySocketPath} does not exist: is chronyd running?", e),
            SocketError.AccessDenied when culpritPath == chronySocketPath => new ChronyException(ChronyErrorKind.PermissionDenied, chronySocketPath,
                $"no permission to use chronyd socket {chronySocketPath} as user {user}: run as root or as chronyd's user", e),
            SocketError.AccessDenied => new ChronyException(ChronyErrorKind.PermissionDenied, chronySocketPath,
                $"no permission to create client socket {culpritPath} as user {user} (chronyd socket {chronySocketPath}): run as root or as chronyd's user", e),
            _ => new ChronyException(ChronyErrorKind.Socket, chronySocketPath,
                $"chronyd socket {chronySocketPath}: {culpritPath}: {e.Message} ({e.SocketErrorCode})", e),
        };
    }

    private static void CheckPathLength(string path, string chronySocketPath)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxSocketPathBytes)
            throw new ChronyException(ChronyErrorKind.Socket, chronySocketPath,
                $"socket path {path} is longer than {MaxSocketPathBytes} bytes (chronyd socket {chronySocketPath})");
    }

    private static uint NextSequence() => (uint)Random.Shared.NextInt64(0, 1L << 32);

    private void EnterRequest()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException($"chrony client {SocketPath} already has a request in flight");
    }

    private void ExitRequest() => Volatile.Write(ref _busy, 0);

    private void EndTracking()
    {
        _pendingTracking = null;
        ExitRequest();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
