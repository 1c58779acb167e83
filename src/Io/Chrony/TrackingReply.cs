using System.Buffers.Binary;
using System.Net;

namespace ClockBound.Io.Chrony;

/// <summary>The decoded body of chronyd's tracking reply (docs/chrony-protocol.md, "The tracking reply"). Floats are in seconds or ppm.</summary>
public readonly record struct TrackingReply(
    uint ReferenceId,
    IPAddress? ReferenceAddress,
    ushort Stratum,
    LeapStatus LeapStatus,
    Timespec ReferenceTime,
    double CurrentCorrection,
    double LastOffset,
    double RmsOffset,
    double Frequency,
    double ResidualFrequency,
    double Skew,
    double RootDelay,
    double RootDispersion,
    double LastUpdateInterval)
{
    /// <summary>Length of the whole reply packet: 28-byte header + 76-byte body.</summary>
    public const int PacketSize = 104;

    // Offsets from the start of the reply packet, as in the table of docs/chrony-protocol.md.
    private const int ReferenceIdOffset = 28;
    private const int AddressOffset = 32;
    private const int AddressFamilyOffset = 48;
    private const int StratumOffset = 52;
    private const int LeapStatusOffset = 54;
    private const int ReferenceTimeOffset = 56;
    private const int FirstFloatOffset = 68;

    private const ushort FamilyIPv4 = 1;
    private const ushort FamilyIPv6 = 2;

    /// <summary>chronyd writes 0x7FFFFFFF in the high 32 bits of the seconds for a time whose high bits are 0.</summary>
    private const uint SecondsHighZero = 0x7FFFFFFF;

    /// <summary>
    /// Decodes a whole 104-byte tracking reply packet (header already validated). Throws <see cref="InvalidDataException"/>
    /// for a reference time with 10^9 nanoseconds or more.
    /// </summary>
    public static TrackingReply ReadFrom(ReadOnlySpan<byte> packet) => ReadFrom(packet, previousAddress: null);

    /// <summary>
    /// As <see cref="ReadFrom(ReadOnlySpan{byte})"/>, but a reference address equal to <paramref name="previousAddress"/>
    /// (the previous reply's, say) is that instance instead of a new one: a poller that decodes a reply 10 times a second
    /// allocates no address while chronyd keeps its reference.
    /// </summary>
    public static TrackingReply ReadFrom(ReadOnlySpan<byte> packet, IPAddress? previousAddress)
    {
        packet = packet[..PacketSize];
        var family = BinaryPrimitives.ReadUInt16BigEndian(packet[AddressFamilyOffset..]);
        var address = family switch
        {
            FamilyIPv4 => Address(packet.Slice(AddressOffset, 4), previousAddress),
            FamilyIPv6 => Address(packet.Slice(AddressOffset, 16), previousAddress),
            _ => null, // 0 unspecified, 3 a reference id without address (refclock, local)
        };

        // chrony defines 0-3. Any other value is kept as it is (an undefined LeapStatus), not refused: it is a reply like
        // any other, whose chrony status is Unknown (ErrorBoundCalculator; daemon-behaviour.md, step 4), not a failed poll.
        var leap = BinaryPrimitives.ReadUInt16BigEndian(packet[LeapStatusOffset..]);

        var secondsHigh = BinaryPrimitives.ReadUInt32BigEndian(packet[ReferenceTimeOffset..]);
        var secondsLow = BinaryPrimitives.ReadUInt32BigEndian(packet[(ReferenceTimeOffset + 4)..]);
        var nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(packet[(ReferenceTimeOffset + 8)..]);
        if (nanoseconds >= Timespec.NanosPerSecond)
            throw new InvalidDataException($"tracking reference time has {nanoseconds} nanoseconds");
        // As chronyd's own conversion to a 64-bit time_t: a seconds-high of 0x80000000 or more gives negative seconds,
        // a time before 1970, which ErrorBoundCalculator counts as stale.
        var seconds = ((long)(secondsHigh == SecondsHighZero ? 0 : secondsHigh) << 32) | secondsLow;

        return new TrackingReply(
            ReferenceId: BinaryPrimitives.ReadUInt32BigEndian(packet[ReferenceIdOffset..]),
            ReferenceAddress: address,
            Stratum: BinaryPrimitives.ReadUInt16BigEndian(packet[StratumOffset..]),
            LeapStatus: (LeapStatus)leap,
            ReferenceTime: new Timespec(seconds, nanoseconds),
            CurrentCorrection: Float(packet, 0),
            LastOffset: Float(packet, 1),
            RmsOffset: Float(packet, 2),
            Frequency: Float(packet, 3),
            ResidualFrequency: Float(packet, 4),
            Skew: Float(packet, 5),
            RootDelay: Float(packet, 6),
            RootDispersion: Float(packet, 7),
            LastUpdateInterval: Float(packet, 8));
    }

    private static IPAddress Address(ReadOnlySpan<byte> bytes, IPAddress? previous)
    {
        Span<byte> previousBytes = stackalloc byte[16];
        // A decoded IPv6 address has scope 0 (ScopeId throws for IPv4).
        return previous is not null && (previous.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || previous.ScopeId == 0)
               && previous.TryWriteBytes(previousBytes, out int length) && length == bytes.Length
               && previousBytes[..length].SequenceEqual(bytes)
            ? previous
            : new IPAddress(bytes);
    }

    private static double Float(ReadOnlySpan<byte> packet, int index) =>
        ChronyFloat.Decode(BinaryPrimitives.ReadUInt32BigEndian(packet[(FirstFloatOffset + 4 * index)..]));
}
