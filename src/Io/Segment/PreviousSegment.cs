namespace ClockBound.Io.Segment;

/// <summary>What a segment file held when a <see cref="SegmentWriter"/> opened it, before the writer changed anything.</summary>
public enum PreviousSegmentState
{
    /// <summary>There was no file at the path.</summary>
    NoSegment,

    /// <summary>The file was not a layout-v2 segment (too short, bad magic, other layout version, segment size below 80
    /// bytes) and was replaced by a fresh one.</summary>
    Replaced,

    /// <summary>A layout-v2 header with generation 0: the previous writer never published a record.</summary>
    NeverWritten,

    /// <summary>No consistent record: the generation was odd (a writer died mid-update), or kept changing while it was
    /// read (a writer that does not lock the file is active).</summary>
    Torn,

    /// <summary>A consistent record, in <see cref="PreviousSegment.Record"/>.</summary>
    Written,
}

/// <summary>
/// What the segment file held when this writer opened it, before <see cref="SegmentWriter.Open"/> touched it: either the
/// previous run's last record (<see cref="State"/> Written) or no record and a short <see cref="Reason"/>. Read under the
/// seqlock with the reader's decoding, while the writer already held the file's lock.
/// </summary>
public readonly record struct PreviousSegment
{
    private PreviousSegment(PreviousSegmentState state, ushort generation, ClockErrorBound? record, string? reason)
    {
        State = state;
        Generation = generation;
        Record = record;
        Reason = reason;
    }

    public PreviousSegmentState State { get; }

    /// <summary>The generation the file held: even and non-zero with a record, odd when Torn by a dead writer, 0 when
    /// NeverWritten; 0 for NoSegment and Replaced, whose header was missing or not to be trusted.</summary>
    public ushort Generation { get; }

    /// <summary>The previous run's last record (marker, status, disruption support, as_of, ...) when <see cref="State"/> is
    /// Written, else null. Its timestamps are CLOCK_MONOTONIC_COARSE of the boot that wrote it.</summary>
    public ClockErrorBound? Record { get; }

    /// <summary>Why there is no usable record: "no segment", "replaced: &lt;why&gt;", "never written", "torn: odd generation N"
    /// (or "torn: generation changed ..."); null when there is one.</summary>
    public string? Reason { get; }

    internal static PreviousSegment NoSegment { get; } = new(PreviousSegmentState.NoSegment, 0, null, "no segment");

    internal static PreviousSegment NeverWritten { get; } = new(PreviousSegmentState.NeverWritten, 0, null, "never written");

    internal static PreviousSegment Replaced(string why) => new(PreviousSegmentState.Replaced, 0, null, $"replaced: {why}");

    internal static PreviousSegment OddGeneration(ushort generation) =>
        new(PreviousSegmentState.Torn, generation, null, $"torn: odd generation {generation}");

    internal static PreviousSegment KeptChanging(ushort first, ushort last) =>
        new(PreviousSegmentState.Torn, last, null,
            $"torn: generation changed from {first} to {last} while it was read (a writer that does not lock the file is active)");

    internal static PreviousSegment Written(ushort generation, in ClockErrorBound record) =>
        new(PreviousSegmentState.Written, generation, record, null);

    /// <summary>The reason, or the generation and record: one phrase for a log line.</summary>
    public override string ToString() => Reason ?? $"generation {Generation}: {Record}";
}
