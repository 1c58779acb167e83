namespace ClockBound.Actors.Tests.IoActors;

/// <summary>
/// Signal handlers are process-wide: a SIGUSR1 that one test sends to the test process reaches every signal listener
/// alive at that moment. The tests that send signals and the tests that run the real actor hierarchy (whose signal
/// listener would then force a disruption) run one after another in this collection.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessSignalsCollection
{
    public const string Name = "process signals";
}
