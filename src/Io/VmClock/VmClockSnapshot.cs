using System.Buffers.Binary;

namespace ClockBound.Io.VmClock;

/// <summary>
/// One copy of the VMClock structure (docs/vmclock.md): 104 little-endian bytes at offset 0 of the device page.
/// The positional fields are the ones the daemon uses; the others are there so that a snapshot round-trips the whole
/// structure (the test fake writes it with <see cref="WriteTo"/>). The magic is not a field: <see cref="WriteTo"/>
/// always writes <see cref="Magic"/> and <see cref="VmClockReader"/> rejects anything else.
/// </summary>
public readonly record struct VmClockSnapshot(
    uint Size,
    ushort Version,
    uint SeqCount,
    ulong DisruptionMarker,
    ulong Flags,
    byte ClockStatus)
{
    /// <summary>Bytes of the structure that carry the fields ClockBound knows (the last one ends at offset 104).</summary>
    public const int Size104 = 104;

    /// <summary>"VCLK" read as a little-endian u32.</summary>
    public const uint Magic = 0x4B4C4356;

    /// <summary>Offset of seq_count, which the writer makes odd while it updates the structure.</summary>
    public const int SeqCountOffset = 12;

    /// <summary>Offset of disruption_marker, which changes whenever the clock was disrupted (e.g. live migration).</summary>
    public const int DisruptionMarkerOffset = 16;

    /// <summary>0 arm64 virtual counter, 1 x86 TSC, 0xff none.</summary>
    public byte CounterId { get; init; }

    /// <summary>0 UTC, 1 TAI, 2 monotonic.</summary>
    public byte TimeType { get; init; }

    public byte LeapSecondSmearingHint { get; init; }
    public short TaiOffsetSeconds { get; init; }
    public byte LeapIndicator { get; init; }
    public byte CounterPeriodShift { get; init; }
    public ulong CounterValue { get; init; }

    /// <summary>Counter period in 2^-64 s units, shifted left by <see cref="CounterPeriodShift"/>.</summary>
    public ulong CounterPeriodFraction { get; init; }

    public ulong CounterPeriodEstimatedErrorRate { get; init; }
    public ulong CounterPeriodMaximumErrorRate { get; init; }
    public ulong TimeSeconds { get; init; }

    /// <summary>Fraction of a second in 2^-64 s units.</summary>
    public ulong TimeFraction { get; init; }

    public ulong TimeEstimatedErrorNanoseconds { get; init; }
    public ulong TimeMaximumErrorNanoseconds { get; init; }

    /// <summary>The magic at offset 0 of <paramref name="source"/> (at least 4 bytes).</summary>
    public static uint ReadMagic(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt32LittleEndian(source);

    /// <summary>Decodes the first <see cref="Size104"/> bytes of <paramref name="source"/>. Does not validate.</summary>
    public static VmClockSnapshot ReadFrom(ReadOnlySpan<byte> source)
    {
        source = source[..Size104]; // one bounds check for all the reads below
        return new VmClockSnapshot(
            Size: BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
            Version: BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
            SeqCount: BinaryPrimitives.ReadUInt32LittleEndian(source[SeqCountOffset..]),
            DisruptionMarker: BinaryPrimitives.ReadUInt64LittleEndian(source[DisruptionMarkerOffset..]),
            Flags: BinaryPrimitives.ReadUInt64LittleEndian(source[24..]),
            ClockStatus: source[34])
        {
            CounterId = source[10],
            TimeType = source[11],
            LeapSecondSmearingHint = source[35],
            TaiOffsetSeconds = BinaryPrimitives.ReadInt16LittleEndian(source[36..]),
            LeapIndicator = source[38],
            CounterPeriodShift = source[39],
            CounterValue = BinaryPrimitives.ReadUInt64LittleEndian(source[40..]),
            CounterPeriodFraction = BinaryPrimitives.ReadUInt64LittleEndian(source[48..]),
            CounterPeriodEstimatedErrorRate = BinaryPrimitives.ReadUInt64LittleEndian(source[56..]),
            CounterPeriodMaximumErrorRate = BinaryPrimitives.ReadUInt64LittleEndian(source[64..]),
            TimeSeconds = BinaryPrimitives.ReadUInt64LittleEndian(source[72..]),
            TimeFraction = BinaryPrimitives.ReadUInt64LittleEndian(source[80..]),
            TimeEstimatedErrorNanoseconds = BinaryPrimitives.ReadUInt64LittleEndian(source[88..]),
            TimeMaximumErrorNanoseconds = BinaryPrimitives.ReadUInt64LittleEndian(source[96..]),
        };
    }

    /// <summary>Encodes the structure, with <see cref="Magic"/> and zero padding, into the first <see cref="Size104"/>
    /// bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination)
    {
        destination = destination[..Size104];
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Size);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], Version);
        destination[10] = CounterId;
        destination[11] = TimeType;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[SeqCountOffset..], SeqCount);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[DisruptionMarkerOffset..], DisruptionMarker);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[32..], 0); // padding
        destination[34] = ClockStatus;
        destination[35] = LeapSecondSmearingHint;
        BinaryPrimitives.WriteInt16LittleEndian(destination[36..], TaiOffsetSeconds);
        destination[38] = LeapIndicator;
        destination[39] = CounterPeriodShift;
        BinaryPrimitives.WriteUInt64LittleEndian(destination[40..], CounterValue);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[48..], CounterPeriodFraction);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[56..], CounterPeriodEstimatedErrorRate);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[64..], CounterPeriodMaximumErrorRate);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[72..], TimeSeconds);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[80..], TimeFraction);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[88..], TimeEstimatedErrorNanoseconds);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[96..], TimeMaximumErrorNanoseconds);
    }
}
