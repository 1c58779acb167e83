using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClockBound.ReaderProcess;

/// <summary>
/// What one run of the program did, printed as its last output line (<see cref="LinePrefix"/> + JSON) and parsed back by
/// the tests. <see cref="Count"/> is reads (read, check) or writes (write).
/// </summary>
/// <param name="Mode">read, check or write.</param>
/// <param name="Count">Reads or writes done.</param>
/// <param name="Errors">Reads that threw (the first message is in <see cref="FirstProblem"/>).</param>
/// <param name="Inconsistent">Reads whose answer broke an invariant (torn record, interval that is not 2 × bound wide, ...).</param>
/// <param name="Updates">How often the record seen changed (a new as_of): the writer's progress as this reader saw it.</param>
/// <param name="LastAsOfNanoseconds">as_of of the last record seen, in nanoseconds (0 before any).</param>
/// <param name="Statuses">How many reads returned each clock status (read mode: the client's status; empty otherwise).</param>
/// <param name="StatusSequence">The statuses in the order seen, consecutive repeats collapsed (capped).</param>
/// <param name="FirstProblem">The first error or inconsistency, or null.</param>
public sealed record ReaderSummary(
    string Mode,
    long Count,
    long Errors,
    long Inconsistent,
    long Updates,
    long LastAsOfNanoseconds,
    IReadOnlyDictionary<string, long> Statuses,
    IReadOnlyList<string> StatusSequence,
    string? FirstProblem)
{
    public const string LinePrefix = "summary ";

    /// <summary>No error and no inconsistent read.</summary>
    [JsonIgnore]
    public bool Clean => Errors == 0 && Inconsistent == 0;

    public string ToLine() => LinePrefix + JsonSerializer.Serialize(this);

    /// <summary>The summary in <paramref name="line"/>, or null if it is not a summary line.</summary>
    public static ReaderSummary? TryParse(string line) =>
        line.StartsWith(LinePrefix, StringComparison.Ordinal) ? JsonSerializer.Deserialize<ReaderSummary>(line[LinePrefix.Length..]) : null;
}
