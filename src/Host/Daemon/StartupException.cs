namespace ClockBound.Host.Daemon;

/// <summary>A resource the daemon needs is unusable at start. The message names it and says what to do.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
