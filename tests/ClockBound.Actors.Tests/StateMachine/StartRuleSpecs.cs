using ClockBound.Actors.StateMachine;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Actors.Tests.StateMachine;

/// <summary>The start rule as a pure function, over every field of the previous record it looks at.</summary>
public sealed class StartRuleSpecs
{
    private const ulong Marker = 7;

    private static ClockErrorBound Record(ClockStatus status, ulong marker = Marker, bool support = true) =>
        new(new Timespec(100, 0), new Timespec(1100, 0), 5_000, marker, 50_000, status, support);

    [Theory]
    [InlineData(ClockStatus.Synchronized, Marker, true, true)]
    [InlineData(ClockStatus.FreeRunning, Marker, true, true)]
    [InlineData(ClockStatus.Unknown, Marker, true, true)]
    [InlineData(ClockStatus.Disrupted, Marker, true, false)]
    [InlineData((ClockStatus)4, Marker, true, false)]
    [InlineData((ClockStatus)(-1), Marker, true, false)]
    [InlineData(ClockStatus.Synchronized, Marker + 1, true, false)]
    [InlineData(ClockStatus.Synchronized, Marker - 1, true, false)]
    [InlineData(ClockStatus.Synchronized, Marker, false, false)]
    [InlineData(ClockStatus.Unknown, Marker, false, false)]
    public void Decide_must_adopt_only_an_intact_marker_of_a_run_that_watched_it(ClockStatus status, ulong marker, bool support, bool adopt)
    {
        var decision = StartRule.Decide(PreviousRun.Left(Record(status, marker, support)), Marker);

        Assert.Equal(adopt, decision.Adopt);
        Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
    }

    [Theory]
    [InlineData("no segment")]
    [InlineData("replaced: bad magic")]
    [InlineData("never written")]
    [InlineData("torn: odd generation 3")]
    public void Decide_must_never_adopt_without_a_previous_record(string why)
    {
        var decision = StartRule.Decide(PreviousRun.Unusable(why), Marker);

        Assert.False(decision.Adopt);
        Assert.Contains(why, decision.Reason);
    }
}
