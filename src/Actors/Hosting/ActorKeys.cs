namespace ClockBound.Actors.Hosting;

// Keys of the daemon's actors in Akka.Hosting's ActorRegistry (registry.Get<ClockStatusActorKey>()).
// The I/O actors are registered as their back-off supervisors, which forward every message to the current child.

/// <summary>The root actor (<c>/user/clockbound</c>) that creates and supervises all the others.</summary>
public sealed class ClockBoundActorKey;

/// <summary>The clock-status state machine (<c>/user/clockbound/clock-status</c>).</summary>
public sealed class ClockStatusActorKey;

/// <summary>The segment writer (<c>/user/clockbound/segment-writer</c>, back-off supervised).</summary>
public sealed class SegmentWriterActorKey;

/// <summary>The chronyd poller (<c>/user/clockbound/chrony-poller</c>, back-off supervised).</summary>
public sealed class ChronyPollerActorKey;

/// <summary>The VMClock watcher (<c>/user/clockbound/vmclock-watcher</c>, back-off supervised); absent with -d.</summary>
public sealed class VmClockWatcherActorKey;

/// <summary>The PHC error-bound reader (<c>/user/clockbound/phc-reader</c>, back-off supervised); absent without -i.</summary>
public sealed class PhcReaderActorKey;

/// <summary>The signal listener (<c>/user/clockbound/signal-listener</c>).</summary>
public sealed class SignalListenerActorKey;
