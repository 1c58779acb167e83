namespace ClockBound.Io.Chrony;

/// <summary>One of the chronyd commands the daemon sends, with the lengths and reply type chronyd uses for it
/// (docs/chrony-protocol.md, "The three commands").</summary>
internal sealed record ChronyCommand(string Name, ushort Code, int RequestLength, ushort ReplyType, int ReplyLength)
{
    /// <summary>Reply type 1: a reply without body.</summary>
    private const ushort EmptyReply = 1;

    /// <summary>A request must be as long as its reply, so the tracking request is padded to the 104-byte reply.</summary>
    public static readonly ChronyCommand Tracking = new("tracking", 33, 104, 5, 104);

    /// <summary>Header plus 8 zero bytes: requests shorter than 28 bytes are dropped by chronyd.</summary>
    public static readonly ChronyCommand ResetSources = new("reset sources", 66, 28, EmptyReply, ChronyReplyHeader.Size);

    /// <summary>Header plus two 20-byte addresses and two i32 sample counts.</summary>
    public static readonly ChronyCommand Burst = new("burst", 3, 68, EmptyReply, ChronyReplyHeader.Size);

    /// <summary>The longest request above, to size the client's send buffer.</summary>
    public const int MaxRequestLength = 104;
}
