namespace ClockBound.Io.Segment;

/// <summary>The clock status as stored in the segment (i32 at offset 68). Values are part of the wire format.</summary>
public enum ClockStatus
{
    Unknown = 0,
    Synchronized = 1,
    FreeRunning = 2,
    Disrupted = 3,
}
