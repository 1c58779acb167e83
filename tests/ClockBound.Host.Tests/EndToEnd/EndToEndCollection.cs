namespace ClockBound.Host.Tests.EndToEnd;

/// <summary>The end-to-end classes run alone, after the rest of this assembly: they judge a real daemon's reaction
/// and start-up times, which a concurrent ReadyToRun publish (the install tests) would distort.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}
