namespace ClockBound.Actors;

/// <summary>
/// Test hook: an I/O actor (chrony poller, VMClock watcher, PHC reader, signal listener, segment writer) that receives it
/// throws <see cref="InjectedFaultException"/>, so that a test can exercise the supervision of the real actor hierarchy.
/// Internal on purpose: only this assembly and its tests can create it, and nothing in the daemon sends it, so no
/// signal, option or message from outside can trigger it in production.
/// </summary>
internal sealed record InjectFault(string Reason)
{
    /// <summary>The handler every I/O actor registers.</summary>
    public static void Throw(InjectFault fault) => throw new InjectedFaultException(fault.Reason);
}

/// <summary>The failure <see cref="InjectFault"/> causes.</summary>
internal sealed class InjectedFaultException(string reason) : Exception($"injected fault: {reason}");
