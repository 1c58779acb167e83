using ClockBound.Io.Segment;

namespace ClockBound.Client;

/// <summary>Thrown by the waiting helpers when the clock status is Unknown or Disrupted: waiting on such a clock proves nothing.</summary>
public sealed class ClockNotUsableException(ClockStatus status)
    : Exception($"the clock status is {status}: no bound can be trusted")
{
    /// <summary>The status that made the bound unusable.</summary>
    public ClockStatus Status { get; } = status;
}
