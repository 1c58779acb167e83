namespace ClockBound.Io.Chrony;

/// <summary>chronyd's leap status (tracking reply, offset 54).</summary>
public enum LeapStatus : ushort
{
    Normal = 0,
    InsertSecond = 1,
    DeleteSecond = 2,
    Unsynchronised = 3,
}
