namespace ClockBound.Io.Chrony;

/// <summary>The one check every reply goes through, whatever the command.</summary>
internal static class ChronyReplyValidator
{
    /// <summary>
    /// Returns false for a stray datagram that is not the reply to this request (too short for a reply header, or another
    /// sequence or command): the caller keeps waiting. Returns true for a valid reply. Throws <see cref="ChronyException"/>
    /// for the reply to this request when it is a failure status or malformed.
    /// </summary>
    public static bool IsValidReply(ReadOnlySpan<byte> datagram, ChronyCommand command, uint sequence, string socketPath)
    {
        if (datagram.Length < ChronyReplyHeader.Size) return false;
        var header = ChronyReplyHeader.ReadFrom(datagram);
        if (header.Sequence != sequence || header.Command != command.Code) return false;

        if (header.Version != ChronyRequestHeader.ProtocolVersion || header.PacketType != ChronyReplyHeader.PacketTypeReply)
        {
            throw new ChronyException(ChronyErrorKind.BadVersion, socketPath,
                $"chronyd at {socketPath} answered {command.Name} with protocol version {header.Version} packet type {header.PacketType}, expected version {ChronyRequestHeader.ProtocolVersion} type {ChronyReplyHeader.PacketTypeReply}");
        }

        // Status first: a failure reply carries no body, so its length says nothing about the command.
        if (header.Status != 0)
        {
            var (kind, meaning) = StatusKind(header.Status);
            throw new ChronyException(kind, socketPath,
                $"chronyd at {socketPath} refused {command.Name}: status {header.Status} ({meaning})");
        }

        if (datagram.Length != command.ReplyLength)
        {
            throw new ChronyException(ChronyErrorKind.BadLength, socketPath,
                $"chronyd at {socketPath} answered {command.Name} with {datagram.Length} bytes, expected {command.ReplyLength}");
        }

        if (header.ReplyType != command.ReplyType)
        {
            throw new ChronyException(ChronyErrorKind.InvalidReply, socketPath,
                $"chronyd at {socketPath} answered {command.Name} with reply type {header.ReplyType}, expected {command.ReplyType}");
        }

        return true;
    }

    private static (ChronyErrorKind Kind, string Meaning) StatusKind(ushort status) => status switch
    {
        1 => (ChronyErrorKind.Failed, "failed"),
        2 => (ChronyErrorKind.Unauthorised, "unauthorised: read-write commands need the Unix socket"),
        3 => (ChronyErrorKind.InvalidCommand, "invalid command: chronyd too old?"),
        4 => (ChronyErrorKind.NoSuchSource, "no such source"),
        18 => (ChronyErrorKind.BadPacketVersion, "bad packet version"),
        19 => (ChronyErrorKind.BadPacketLength, "bad packet length"),
        _ => (ChronyErrorKind.UnexpectedStatus, "unexpected status"),
    };
}
