namespace ClockBound.Actors.StateMachine;

/// <summary>The disruption input of the clock-status state machine (daemon-behaviour.md, "Clock status state machine").</summary>
public enum DisruptionState
{
    /// <summary>No VMClock reading yet, the device could not be read, or chronyd has just been reset after a disruption.</summary>
    Unknown,
    /// <summary>The VMClock disruption marker is the one the daemon last acted on.</summary>
    Reliable,
    /// <summary>The marker changed (or SIGUSR1 forced it) and chronyd has not been reset yet.</summary>
    Disrupted,
}
