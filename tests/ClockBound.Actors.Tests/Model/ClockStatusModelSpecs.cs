using System.Diagnostics;
using Akka.Configuration;
using ClockBound.Actors.StateMachine;
using ClockBound.Io.Bound;
using ClockBound.Io.Segment;
using CsCheck;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests.Model;

/// <summary>
/// Model-based test of the clock-status actor: CsCheck generates sequences of its inputs (tracking replies, some requested
/// before other inputs, failed polls, time, VMClock markers, reset completions of any epoch, SIGUSR1/2, PHC reads, crashes)
/// with random settings and previous runs; <see cref="SequenceRun"/> applies each to the real actor under virtual time
/// and checks <see cref="SafetyInvariants"/> after every step. A failure prints the shrunk sequence (CsCheck's "Input")
/// and, below it, the resolved trace of that run with everything the actor published and asked.
/// </summary>
/// <remarks>
/// Environment variables:
/// <list type="bullet">
/// <item><c>CLOCKBOUND_MODEL_SEED</c>: CsCheck seed of the first sequence (default <see cref="DefaultSeed"/>; a failure
/// prints the seed of its shrunk sequence, which reproduces it).</item>
/// <item><c>CLOCKBOUND_MODEL_ITERATIONS</c>: the number of sequences (default <see cref="DefaultIterations"/>;
/// bench/model/run.sh runs 10^6).</item>
/// </list>
/// All sequences run on one thread: they share the actor system's TestScheduler, whose Advance fires every actor's timers.
/// </remarks>
public sealed class ClockStatusModelSpecs : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>Logging off: the actor logs at debug on every input and the supervisor logs each injected crash with its
    /// stack trace, which would cost more than the actor itself over 10^4 sequences.</summary>
    private static readonly Config VirtualTime = ConfigurationFactory.ParseString("""
        akka.scheduler.implementation = "Akka.TestKit.TestScheduler, Akka.TestKit"
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.log-dead-letters = 0
        akka.log-dead-letters-during-shutdown = off
        """);

    /// <summary>A fixed seed, so that CI runs the same sequences every time.</summary>
    public const string DefaultSeed = "0000CBModel1";

    /// <summary>10^4 sequences: the CI budget (well under 2 minutes on 2 cores); the bench runs 10^6.</summary>
    public const long DefaultIterations = 10_000;

    private readonly ITestOutputHelper _output;

    public ClockStatusModelSpecs(ITestOutputHelper output) : base(VirtualTime) => _output = output;

    [Fact]
    public void Clock_status_actor_must_keep_its_safety_invariants_in_every_generated_sequence()
    {
        var seed = Environment.GetEnvironmentVariable("CLOCKBOUND_MODEL_SEED") is { Length: > 0 } s ? s : DefaultSeed;
        var iterations = long.TryParse(Environment.GetEnvironmentVariable("CLOCKBOUND_MODEL_ITERATIONS"), out var n) && n > 0
            ? n
            : DefaultIterations;
        _output.WriteLine($"model: seed {seed}, {iterations} sequences (CLOCKBOUND_MODEL_SEED, CLOCKBOUND_MODEL_ITERATIONS)");

        var coverage = new ModelCoverage();
        var watch = Stopwatch.StartNew();
        string? firstFailure = null;
        try
        {
            ModelGenerators.Scenario.Sample(scenario =>
                {
                    try
                    {
                        SequenceRun.Run(this, scenario, coverage);
                    }
                    catch (InvariantViolatedException) when (firstFailure is null)
                    {
                        firstFailure = $"first violation after {coverage.Sequences} sequences, {watch.Elapsed.TotalSeconds:0.0} s";
                        throw;
                    }
                },
                writeLine: _output.WriteLine, seed: seed, iter: iterations, threads: 1, print: scenario => scenario.ToString());
        }
        finally
        {
            _output.WriteLine($"model: {coverage} in {watch.Elapsed.TotalSeconds:0.0} s");
            if (firstFailure is not null)
                _output.WriteLine($"model: {firstFailure}");
        }

        // The property is not vacuous: the sequences got through disruptions and back to Synchronized.
        if (iterations >= DefaultIterations)
        {
            Assert.True(coverage.SynchronizedAfterAReset > 0, $"no sequence recovered from a disruption: {coverage}");
            Assert.True(coverage.SynchronizedOnThePhc > 0, $"no sequence was Synchronized on the PHC: {coverage}");
            Assert.True(coverage.Restarts > 0 && coverage.Disrupted > 0, $"no restart or disruption: {coverage}");
        }
    }

    /// <summary>The model restates the spec's table rather than calling the actor's; the two must agree.</summary>
    [Fact]
    public void Model_state_machine_table_must_agree_with_ClockStatusTransitions()
    {
        foreach (var from in Enum.GetValues<ClockStatus>())
        foreach (var chrony in Enum.GetValues<ChronyClockStatus>())
        foreach (var disruption in Enum.GetValues<DisruptionState>())
            Assert.Equal(SpecTable.Next(from, chrony, disruption),
                ClockStatusTransitions.NextWithDisruptionSupport(from, chrony, disruption));
    }
}
