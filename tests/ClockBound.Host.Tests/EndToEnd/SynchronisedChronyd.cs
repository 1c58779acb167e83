using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.EndToEnd;

/// <summary>One sandboxed chronyd pair (chronyd -x) per test class, synchronised before the first test.
/// Tests that take chronyd offline bring it back before they end.</summary>
public sealed class SynchronisedChronyd : IAsyncLifetime
{
    public ChronydSandbox Sandbox { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Sandbox = await ChronydSandbox.StartPairAsync();
        await Sandbox.WaitSynchronisedAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync() => await Sandbox.DisposeAsync();
}

/// <summary>The end-to-end classes run alone, after the rest of this assembly: they judge a real daemon's reaction
/// and start-up times, which a concurrent ReadyToRun publish (the install tests) would distort.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndCollection
{
    public const string Name = "end-to-end";
}
