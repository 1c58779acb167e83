using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using ClockBound.Io;
using ClockBound.Io.Phc;

namespace ClockBound.Actors;

/// <summary>
/// Reads the PHC's error bound from sysfs every <see cref="ClockBoundSettings.PhcReadInterval"/> and reports it to the
/// clock-status actor (<see cref="PhcBoundRead"/> / <see cref="PhcReadFailed"/>).
/// </summary>
/// <remarks>
/// A sysfs attribute read runs the driver's <c>show</c> function, which may talk to the device: like every other I/O
/// of the daemon it runs as a task piped back to the actor, one at a time, the next scheduled when it completes.
/// A read that has not completed within <see cref="ClockBoundSettings.PhcReadTimeout"/> is reported as failed at once
/// (a hung driver or a FIFO in place of the attribute): it cannot be cancelled, so no other read starts until it ends,
/// and the clock-status actor stops using the last bound (its age is bounded there too).
/// The path is resolved in <c>PreStart</c>; a failure there is reported as <see cref="PhcReadFailed"/> and then thrown,
/// so that the back-off supervisor tries again (the host already checked the path at start-up).
/// </remarks>
public sealed class PhcReaderActor : ReceiveActor, IWithTimers
{
    private const string ReadTimerKey = "read";
    private const string ReadTimeoutTimerKey = "read-timeout";

    private readonly ClockBoundSettings _settings;
    private readonly IActorRef _clockStatus;
    private readonly Func<PhcErrorBoundReader> _resolve;
    private readonly RepeatedFailureLog _failures;
    private PhcErrorBoundReader? _reader;
    private long _readStartedAt;
    private Timespec _readStartedAtMonotonic;

    public PhcReaderActor(ClockBoundSettings settings, IActorRef clockStatus, Func<PhcErrorBoundReader>? resolve = null)
    {
        _settings = settings;
        _clockStatus = clockStatus;
        _resolve = resolve ?? (() => PhcErrorBoundReader.Resolve(
            settings.PhcInterface ?? throw new InvalidOperationException("PHC reader started without a PHC interface (-i)"),
            settings.SysfsRoot));
        _failures = new RepeatedFailureLog(Context.GetLogger(), $"PHC error bound of {settings.PhcInterface}");

        Receive<Read>(_ => StartRead());
        Receive<ReadSucceeded>(OnReadSucceeded);
        Receive<ReadFailed>(OnReadFailed);
        Receive<ReadTimedOut>(_ => OnReadTimedOut());
        Receive<InjectFault>(InjectFault.Throw);
    }

    /// <summary>Props; <paramref name="resolve"/> replaces <see cref="PhcErrorBoundReader.Resolve"/> of the configured interface.</summary>
    public static Props Props(ClockBoundSettings settings, IActorRef clockStatus, Func<PhcErrorBoundReader>? resolve = null) =>
        Akka.Actor.Props.Create(() => new PhcReaderActor(settings, clockStatus, resolve));

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        try
        {
            _reader = _resolve();
        }
        catch (Exception ex)
        {
            _clockStatus.Tell(new PhcReadFailed(ex.Message));
            throw;
        }

        Self.Tell(Read.Instance);
    }

    private void StartRead()
    {
        _readStartedAt = Stopwatch.GetTimestamp();
        _readStartedAtMonotonic = Clocks.MonotonicCoarse();
        var reader = _reader!;
        Task.Run(reader.ReadErrorBoundNanoseconds).PipeTo(
            Self, success: ns => new ReadSucceeded(ns), failure: ex => new ReadFailed(ex));
        Timers.StartSingleTimer(ReadTimeoutTimerKey, ReadTimedOut.Instance, _settings.PhcReadTimeout);
    }

    private void OnReadTimedOut()
    {
        var reason = $"reading the PHC error bound of {_settings.PhcInterface} ({_reader!.ErrorBoundPath}) has not completed "
                     + $"within {_settings.PhcReadTimeout.TotalMilliseconds:0} ms";
        _clockStatus.Tell(new PhcReadFailed(reason));
        _failures.Failure(reason);
    }

    private void OnReadSucceeded(ReadSucceeded m)
    {
        Timers.Cancel(ReadTimeoutTimerKey);
        _clockStatus.Tell(new PhcBoundRead(m.Nanoseconds, _readStartedAtMonotonic));
        _failures.Success();
        ScheduleNextRead();
    }

    private void OnReadFailed(ReadFailed m)
    {
        Timers.Cancel(ReadTimeoutTimerKey);
        var cause = PipedFailure.Cause(m.Cause);
        _clockStatus.Tell(new PhcReadFailed(cause.Message));
        _failures.Failure(cause.Message);
        ScheduleNextRead();
    }

    private void ScheduleNextRead()
    {
        var remaining = _settings.PhcReadInterval - Stopwatch.GetElapsedTime(_readStartedAt);
        Timers.StartSingleTimer(ReadTimerKey, Read.Instance, remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
    }

    private sealed class Read
    {
        public static readonly Read Instance = new();
        private Read() { }
    }

    private sealed class ReadTimedOut
    {
        public static readonly ReadTimedOut Instance = new();
        private ReadTimedOut() { }
    }

    private sealed record ReadSucceeded(long Nanoseconds);

    private sealed record ReadFailed(Exception Cause);
}
