using System.Buffers.Binary;

namespace ClockBound.Io.Chrony;

/// <summary>Builds the three requests. Each returns the request length; the bytes after the header are zero unless set.</summary>
internal static class ChronyRequests
{
    // Burst body: mask address (20 bytes) and address (20 bytes), both left zero = unspecified, then the two counts.
    private const int BurstGoodOffset = ChronyRequestHeader.Size + 40;
    private const int BurstTotalOffset = BurstGoodOffset + 4;

    public static int WriteTracking(Span<byte> destination, uint sequence) =>
        WriteHeaderAndPadding(destination, ChronyCommand.Tracking, sequence);

    public static int WriteResetSources(Span<byte> destination, uint sequence) =>
        WriteHeaderAndPadding(destination, ChronyCommand.ResetSources, sequence);

    public static int WriteBurst(Span<byte> destination, uint sequence, int goodSamples, int totalSamples)
    {
        var length = WriteHeaderAndPadding(destination, ChronyCommand.Burst, sequence);
        BinaryPrimitives.WriteInt32BigEndian(destination[BurstGoodOffset..], goodSamples);
        BinaryPrimitives.WriteInt32BigEndian(destination[BurstTotalOffset..], totalSamples);
        return length;
    }

    private static int WriteHeaderAndPadding(Span<byte> destination, ChronyCommand command, uint sequence)
    {
        destination[..command.RequestLength].Clear();
        new ChronyRequestHeader(command.Code, sequence).WriteTo(destination);
        return command.RequestLength;
    }
}
