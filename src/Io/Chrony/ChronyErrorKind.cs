namespace ClockBound.Io.Chrony;

/// <summary>Why a chronyd request failed. Each kind has its own readable message naming the socket path.</summary>
public enum ChronyErrorKind
{
    /// <summary>chronyd's socket does not exist (chronyd not running, or another path).</summary>
    SocketMissing,
    /// <summary>No write permission on chronyd's socket, or on the directory of our own client socket.</summary>
    PermissionDenied,
    /// <summary>No matching reply within the timeout.</summary>
    Timeout,
    /// <summary>A reply of the wrong length for its command.</summary>
    BadLength,
    /// <summary>A reply with a protocol version other than 6, or not a reply packet.</summary>
    BadVersion,
    /// <summary>chronyd answered status 1 (failed).</summary>
    Failed,
    /// <summary>Status 2: read-write command refused (not on the Unix socket).</summary>
    Unauthorised,
    /// <summary>Status 3: chronyd does not know the command (too old for reset sources).</summary>
    InvalidCommand,
    /// <summary>Status 4: e.g. burst with no NTP sources.</summary>
    NoSuchSource,
    /// <summary>Status 18: chronyd rejected our protocol version.</summary>
    BadPacketVersion,
    /// <summary>Status 19: chronyd rejected our request length.</summary>
    BadPacketLength,
    /// <summary>Any other non-zero status.</summary>
    UnexpectedStatus,
    /// <summary>Any other socket error (errno in the message).</summary>
    Socket,
    /// <summary>A reply whose contents are invalid (e.g. reference time in the future).</summary>
    InvalidReply,
}

/// <summary>A failed chronyd request or connection: <see cref="Kind"/> says why, the message names <see cref="SocketPath"/>.</summary>
public sealed class ChronyException(ChronyErrorKind kind, string socketPath, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public ChronyErrorKind Kind { get; } = kind;

    /// <summary>chronyd's socket the request went to.</summary>
    public string SocketPath { get; } = socketPath;
}
