using ClockBound.Host.Daemon;

namespace ClockBound.Host.Tests;

/// <summary>The process-wide runtime settings the daemon makes at start (src/Host/Daemon/RuntimeTuning.cs).</summary>
[Collection(nameof(RuntimeTuningSpecs))] // changes this test process's environment: never alongside itself
public sealed class RuntimeTuningSpecs : IDisposable
{
    private readonly string? _saved = Environment.GetEnvironmentVariable(RuntimeTuning.InlineSocketCompletions);

    public void Dispose() => Environment.SetEnvironmentVariable(RuntimeTuning.InlineSocketCompletions, _saved);

    [Fact]
    public void Apply_must_turn_on_inline_socket_completions_when_the_environment_is_silent()
    {
        Environment.SetEnvironmentVariable(RuntimeTuning.InlineSocketCompletions, null);

        RuntimeTuning.Apply();

        Assert.Equal("1", Environment.GetEnvironmentVariable(RuntimeTuning.InlineSocketCompletions));
    }

    [Fact]
    public void Apply_must_leave_an_explicit_setting_alone()
    {
        // An operator who sets it to 0 (say, to rule it out while debugging) keeps the runtime's default behaviour.
        Environment.SetEnvironmentVariable(RuntimeTuning.InlineSocketCompletions, "0");

        RuntimeTuning.Apply();

        Assert.Equal("0", Environment.GetEnvironmentVariable(RuntimeTuning.InlineSocketCompletions));
    }
}
