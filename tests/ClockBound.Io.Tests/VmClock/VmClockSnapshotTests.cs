using ClockBound.Io.VmClock;

namespace ClockBound.Io.Tests.VmClock;

public class VmClockSnapshotTests
{
    // Every field with a distinct value, assembled by hand from the table in docs/vmclock.md.
    private const string HandAssembled =
        "56434C4B" + // 0   magic "VCLK"
        "68000000" + // 4   size 104
        "0100" +     // 8   version 1
        "01" +       // 10  counter id: x86 TSC
        "01" +       // 11  time type: TAI
        "2A000000" + // 12  seq_count 42
        "0807060504030201" + // 16  disruption marker 0x0102030405060708
        "C102000000000000" + // 24  flags 0x2C1
        "0000" +     // 32  padding
        "02" +       // 34  clock status: synchronized
        "03" +       // 35  leap-second smearing hint
        "DBFF" +     // 36  TAI offset -37
        "01" +       // 38  leap indicator
        "05" +       // 39  counter period shift
        "1122334455667788" + // 40  counter value 0x8877665544332211
        "1000000000000000" + // 48  counter period 0x10
        "2000000000000000" + // 56  period esterror rate 0x20
        "3000000000000000" + // 64  period maxerror rate 0x30
        "00E1F50500000000" + // 72  time seconds 100 000 000
        "0000000000000080" + // 80  time fraction 0.5 s
        "E803000000000000" + // 88  time esterror 1000 ns
        "D007000000000000";  // 96  time maxerror 2000 ns

    private static readonly VmClockSnapshot HandAssembledSnapshot =
        new(Size: 104, Version: 1, SeqCount: 42, DisruptionMarker: 0x0102030405060708, Flags: 0x2C1, ClockStatus: 2)
        {
            CounterId = 1,
            TimeType = 1,
            LeapSecondSmearingHint = 3,
            TaiOffsetSeconds = -37,
            LeapIndicator = 1,
            CounterPeriodShift = 5,
            CounterValue = 0x8877665544332211,
            CounterPeriodFraction = 0x10,
            CounterPeriodEstimatedErrorRate = 0x20,
            CounterPeriodMaximumErrorRate = 0x30,
            TimeSeconds = 100_000_000,
            TimeFraction = 0x8000000000000000,
            TimeEstimatedErrorNanoseconds = 1000,
            TimeMaximumErrorNanoseconds = 2000,
        };

    [Fact]
    public void ReadFrom_must_decode_every_field_at_its_offset()
    {
        byte[] bytes = Convert.FromHexString(HandAssembled);

        Assert.Equal(104, bytes.Length);
        Assert.Equal(HandAssembledSnapshot, VmClockSnapshot.ReadFrom(bytes));
        Assert.Equal(VmClockSnapshot.Magic, VmClockSnapshot.ReadMagic(bytes));
    }

    [Fact]
    public void WriteTo_must_produce_the_hand_assembled_bytes()
    {
        byte[] bytes = new byte[VmClockSnapshot.Size104];

        HandAssembledSnapshot.WriteTo(bytes);

        Assert.Equal(HandAssembled, Convert.ToHexString(bytes));
    }

    [Fact]
    public void WriteTo_must_leave_bytes_after_the_structure_alone()
    {
        byte[] page = Enumerable.Repeat((byte)0xEE, 128).ToArray();

        HandAssembledSnapshot.WriteTo(page);

        Assert.All(page[104..], b => Assert.Equal(0xEE, b));
    }

    [Theory]
    [InlineData("Size", 4, 4)]
    [InlineData("Version", 8, 2)]
    [InlineData("CounterId", 10, 1)]
    [InlineData("TimeType", 11, 1)]
    [InlineData("SeqCount", 12, 4)]
    [InlineData("DisruptionMarker", 16, 8)]
    [InlineData("Flags", 24, 8)]
    [InlineData("ClockStatus", 34, 1)]
    [InlineData("LeapSecondSmearingHint", 35, 1)]
    [InlineData("TaiOffsetSeconds", 36, 2)]
    [InlineData("LeapIndicator", 38, 1)]
    [InlineData("CounterPeriodShift", 39, 1)]
    [InlineData("CounterValue", 40, 8)]
    [InlineData("CounterPeriodFraction", 48, 8)]
    [InlineData("CounterPeriodEstimatedErrorRate", 56, 8)]
    [InlineData("CounterPeriodMaximumErrorRate", 64, 8)]
    [InlineData("TimeSeconds", 72, 8)]
    [InlineData("TimeFraction", 80, 8)]
    [InlineData("TimeEstimatedErrorNanoseconds", 88, 8)]
    [InlineData("TimeMaximumErrorNanoseconds", 96, 8)]
    public void Field_must_occupy_exactly_its_bytes(string field, int offset, int width)
    {
        byte[] bytes = new byte[VmClockSnapshot.Size104];

        AllOnes(field).WriteTo(bytes);

        for (int i = 4; i < bytes.Length; i++) // the magic (0..3) is always written
            Assert.True(bytes[i] == (i >= offset && i < offset + width ? 0xFF : 0), $"byte {i} is 0x{bytes[i]:X2}");
        Assert.Equal(AllOnes(field), VmClockSnapshot.ReadFrom(bytes));
    }

    private static VmClockSnapshot AllOnes(string field)
    {
        VmClockSnapshot zero = default;
        return field switch
        {
            "Size" => zero with { Size = uint.MaxValue },
            "Version" => zero with { Version = ushort.MaxValue },
            "CounterId" => zero with { CounterId = byte.MaxValue },
            "TimeType" => zero with { TimeType = byte.MaxValue },
            "SeqCount" => zero with { SeqCount = uint.MaxValue },
            "DisruptionMarker" => zero with { DisruptionMarker = ulong.MaxValue },
            "Flags" => zero with { Flags = ulong.MaxValue },
            "ClockStatus" => zero with { ClockStatus = byte.MaxValue },
            "LeapSecondSmearingHint" => zero with { LeapSecondSmearingHint = byte.MaxValue },
            "TaiOffsetSeconds" => zero with { TaiOffsetSeconds = -1 },
            "LeapIndicator" => zero with { LeapIndicator = byte.MaxValue },
            "CounterPeriodShift" => zero with { CounterPeriodShift = byte.MaxValue },
            "CounterValue" => zero with { CounterValue = ulong.MaxValue },
            "CounterPeriodFraction" => zero with { CounterPeriodFraction = ulong.MaxValue },
            "CounterPeriodEstimatedErrorRate" => zero with { CounterPeriodEstimatedErrorRate = ulong.MaxValue },
            "CounterPeriodMaximumErrorRate" => zero with { CounterPeriodMaximumErrorRate = ulong.MaxValue },
            "TimeSeconds" => zero with { TimeSeconds = ulong.MaxValue },
            "TimeFraction" => zero with { TimeFraction = ulong.MaxValue },
            "TimeEstimatedErrorNanoseconds" => zero with { TimeEstimatedErrorNanoseconds = ulong.MaxValue },
            "TimeMaximumErrorNanoseconds" => zero with { TimeMaximumErrorNanoseconds = ulong.MaxValue },
            _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
        };
    }
}
