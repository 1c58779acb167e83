using ClockBound.Io;
using ClockBound.Io.Chrony;
using ClockBound.Io.Segment;

namespace ClockBound.Actors;

// Messages between the actors. All immutable. I/O actors → clock-status actor → segment writer.

/// <summary>Chrony poller → clock status: one tracking reply. <paramref name="AsOf"/> is CLOCK_MONOTONIC_COARSE read
/// before the request; <paramref name="ReceivedRealtime"/> is CLOCK_REALTIME when the reply arrived (staleness rule).</summary>
public sealed record ChronyTracked(TrackingReply Tracking, Timespec AsOf, Timespec ReceivedRealtime)
{
    /// <summary>Request to reply, as the poller measured it (metrics).</summary>
    public TimeSpan RoundTrip { get; init; }
}

/// <summary>Chrony poller → clock status: a poll failed (no socket, timeout, bad reply). <paramref name="At"/> is CLOCK_MONOTONIC_COARSE.</summary>
public sealed record ChronyPollFailed(Timespec At, ChronyErrorKind Kind, string Reason);

/// <summary>VMClock watcher → clock status: the device's disruption marker, on every change and at least every heartbeat.</summary>
public sealed record VmClockObserved(ulong DisruptionMarker);

/// <summary>VMClock watcher → clock status: the device could not be read consistently; the disruption state is Unknown.</summary>
public sealed record VmClockUnavailable(string Reason);

/// <summary>PHC reader → clock status: the PHC's error bound, from a read started at <paramref name="ReadAt"/>
/// (CLOCK_MONOTONIC_COARSE): the value is at least as young as that, and its age bounds how long it may be used.</summary>
public sealed record PhcBoundRead(long ErrorBoundNanoseconds, Timespec ReadAt);

/// <summary>PHC reader → clock status: the sysfs read failed; polls referenced to the PHC count as failed until it recovers.</summary>
public sealed record PhcReadFailed(string Reason);

/// <summary>Signal listener → clock status: SIGUSR1 (On = true) / SIGUSR2 (On = false).</summary>
public sealed record ForcedDisruption(bool On);

/// <summary>Clock status → chrony poller: reset sources then burst, with the retry and cool-down rules, until it succeeds.
/// <paramref name="Epoch"/> identifies the disruption it answers: the clock-status actor counts its disruptions and accepts
/// only the <see cref="ChronyResetCompleted"/> of the latest, so that the completion of an earlier reset, still in a
/// mailbox when a second disruption is handled, cannot end the second one.</summary>
public sealed record ResetChrony(long Epoch);

/// <summary>Chrony poller → clock status: reset sources and burst both succeeded for the reset of <paramref name="Epoch"/>.</summary>
public sealed record ChronyResetCompleted(long Epoch);

// The poller also publishes ChronyTracked, ChronyPollFailed and ChronyResetCompleted on the event stream (metrics).

/// <summary>Clock status → segment writer: publish this record.</summary>
public sealed record PublishBound(ClockErrorBound Bound);

/// <summary>Segment writer → event stream, after every successful write (the host's sd_notify READY/WATCHDOG and metrics use it).</summary>
public sealed record SegmentWritten(ushort Generation, ClockStatus Status, Timespec WrittenAt)
{
    private readonly PublishBound? _published;

    /// <summary>The write of <paramref name="published"/>: refers to the segment writer's message instead of copying its
    /// 64-byte record (one write per poll; docs/performance-notes.md, "Round 5").</summary>
    public SegmentWritten(ushort generation, Timespec writtenAt, PublishBound published)
        : this(generation, published.Bound.Status, writtenAt) => _published = published;

    /// <summary>The record written.</summary>
    public ClockErrorBound Bound
    {
        get => _published?.Bound ?? default;
        init => _published = new PublishBound(value);
    }
}

/// <summary>Clock status → event stream: the state machine moved. Logged with the inputs that caused it.</summary>
public sealed record ClockStatusChanged(ClockStatus From, ClockStatus To, string Cause);

/// <summary>An I/O actor → event stream: it was restarted by supervision (the count survives the restarts).</summary>
public sealed record ActorRestarted(string ActorName, int RestartCount, string Cause);
