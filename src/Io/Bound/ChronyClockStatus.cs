namespace ClockBound.Io.Bound;

/// <summary>The clock status derived from one chrony tracking reply (input of the state machine).</summary>
public enum ChronyClockStatus
{
    Unknown,
    Synchronized,
    FreeRunning,
}
