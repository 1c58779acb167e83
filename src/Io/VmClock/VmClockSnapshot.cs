namespace ClockBound.Io.VmClock;

/// <summary>The fields of the VMClock page the daemon and clients use (shared/spec/vmclock.md).</summary>
public readonly record struct VmClockSnapshot(
    uint Size,
    ushort Version,
    uint SeqCount,
    ulong DisruptionMarker,
    ulong Flags,
    byte ClockStatus)
{
    /// <summary>Bytes of the structure that carry the fields ClockBound knows.</summary>
    public const int Size104 = 104;
    public const uint Magic = 0x4B4C4356; // "VCLK"
}
