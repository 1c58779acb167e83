using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Chrony;

/// <summary>One real chronyd pair per test class, synchronised before the first test; stopped by PID afterwards,
/// whether the tests passed or not.</summary>
public sealed class ChronydPairFixture : IAsyncLifetime
{
    public static readonly TimeSpan SyncTimeout = TimeSpan.FromSeconds(30);

    private ChronydSandbox? _sandbox;

    public ChronydSandbox Sandbox => _sandbox ?? throw new InvalidOperationException("the chronyd pair has not started");

    public async Task InitializeAsync()
    {
        _sandbox = await ChronydSandbox.StartPairAsync();
        await _sandbox.WaitSynchronisedAsync(SyncTimeout);
    }

    public async Task DisposeAsync()
    {
        if (_sandbox is not null) await _sandbox.DisposeAsync();
    }
}
