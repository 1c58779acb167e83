using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>Real signals sent to the test process itself: if a handler did not cancel the default action, the test
/// process would die (the default action of SIGUSR1, SIGUSR2 and SIGHUP is to terminate).</summary>
[Collection(ProcessSignalsCollection.Name)]
public sealed class SignalListenerActorTests : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(Interop.Libc.SIGUSR1, true)]
    [InlineData(Interop.Libc.SIGUSR2, false)]
    public void Listener_must_turn_SIGUSR1_and_SIGUSR2_into_forced_disruption_and_keep_the_process_alive(int signal, bool on)
    {
        var clockStatus = CreateTestProbe();
        StartListener(clockStatus);

        Interop.Libc.Kill(Environment.ProcessId, signal);

        Assert.Equal(new ForcedDisruption(on), clockStatus.ExpectMsg<ForcedDisruption>(Patience));
    }

    [Fact]
    public void Listener_must_reopen_the_logs_on_SIGHUP()
    {
        var clockStatus = CreateTestProbe();
        var reopened = CreateTestProbe();
        StartListener(clockStatus, () => reopened.Ref.Tell("reopen"));

        Interop.Libc.Kill(Environment.ProcessId, Interop.Libc.SIGHUP);

        reopened.ExpectMsg("reopen", Patience);
        clockStatus.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Listener_must_report_every_signal_in_order()
    {
        var clockStatus = CreateTestProbe();
        StartListener(clockStatus);

        Interop.Libc.Kill(Environment.ProcessId, Interop.Libc.SIGUSR1);
        clockStatus.ExpectMsg(new ForcedDisruption(true), Patience);
        Interop.Libc.Kill(Environment.ProcessId, Interop.Libc.SIGUSR2);
        clockStatus.ExpectMsg(new ForcedDisruption(false), Patience);
        Interop.Libc.Kill(Environment.ProcessId, Interop.Libc.SIGUSR1);
        clockStatus.ExpectMsg(new ForcedDisruption(true), Patience);
    }

    /// <summary>Starts the listener and waits until its PreStart (the registrations) has run: a signal sent before
    /// would take its default action and end the test process.</summary>
    private void StartListener(IActorRef clockStatus, Action? onReopenLogs = null)
    {
        var listener = Sys.ActorOf(SignalListenerActor.Props(clockStatus, onReopenLogs));
        listener.Tell(new Identify(1));
        ExpectMsg<ActorIdentity>(Patience);
    }
}
