namespace ClockBound.Io.Chrony;

/// <summary>chronyd's leap status (tracking reply, offset 54). A value chrony does not define (4 or more) is decoded as
/// is, and means chrony status Unknown.</summary>
public enum LeapStatus : ushort
{
    Normal = 0,
    InsertSecond = 1,
    DeleteSecond = 2,
    Unsynchronised = 3,
}
