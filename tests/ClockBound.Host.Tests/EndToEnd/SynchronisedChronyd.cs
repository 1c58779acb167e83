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
