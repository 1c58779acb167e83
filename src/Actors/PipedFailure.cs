namespace ClockBound.Actors;

/// <summary>The failures <c>PipeTo</c> delivers: a faulted task's exception is an <see cref="AggregateException"/> around
/// the one the work threw.</summary>
internal static class PipedFailure
{
    /// <summary>The exception the piped work failed with: single-exception <see cref="AggregateException"/>s unwrapped,
    /// nested ones too.</summary>
    public static Exception Cause(Exception ex) =>
        ex is AggregateException { InnerExceptions.Count: 1 } agg ? Cause(agg.InnerExceptions[0]) : ex;
}
