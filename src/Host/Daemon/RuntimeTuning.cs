namespace ClockBound.Host.Daemon;

/// <summary>Process-wide runtime settings the daemon makes before it starts anything.</summary>
internal static class RuntimeTuning
{
    /// <summary>
    /// The .NET runtime's switch that runs socket completions on the socket engine's own thread instead of handing each
    /// to a thread-pool worker. Read once, from the environment, when the first asynchronous socket operation starts the
    /// engine; there is no runtimeconfig equivalent.
    /// </summary>
    public const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns on <see cref="InlineSocketCompletions"/> unless the environment says otherwise. A chrony reply (10 a second)
    /// otherwise wakes a pool worker just to tell the actor on the event loop: about 0.06 s of CPU a minute of an idle
    /// daemon's 0.4 (BENCHMARKS.md, "Idle CPU"). Safe here because the daemon's socket continuations are short and never
    /// block: chrony's reply is checked and piped to an actor; the optional metrics endpoint renders a few gauges.
    /// Must run before anything opens a socket (the metrics endpoint, the preflight's chrony check).
    /// </summary>
    public static void Apply()
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
            Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
    }
}
