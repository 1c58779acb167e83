namespace ClockBound.TestSupport;

/// <summary>One real chronyd pair (chronyd -x) for a test class, synchronised before the first test and stopped by PID
/// afterwards, whether the tests passed or not. Tests that take chronyd offline bring it back before they end.</summary>
public sealed class SynchronisedChronyd : Xunit.IAsyncLifetime
{
    /// <summary>A freshly started pair synchronises in well under a second; the margin is for a loaded machine.</summary>
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
