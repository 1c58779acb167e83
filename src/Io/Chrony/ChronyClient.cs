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

    /// <summary>Creates and binds the client socket and connects to chronyd's socket. Throws <see cref="ChronyException"/>.</summary>
    public static ChronyClient Connect(string chronySocketPath, string? clientSocketDirectory = null, TimeSpan? timeout = null) =>
        throw new NotImplementedException();

    public string SocketPath => throw new NotImplementedException();

    public Task<TrackingReply> GetTrackingAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task ResetSourcesAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task BurstAsync(int goodSamples = 4, int totalSamples = 8, CancellationToken cancellationToken = default) =>
        throw new NotImplementedException();

    public void Dispose() => throw new NotImplementedException();
}
