using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using static ClockBound.Io.Tests.Segment.SegmentFiles;

namespace ClockBound.Io.Tests.Segment;

/// <summary><see cref="SegmentWriter.Previous"/>: what the file held when the writer opened it, before Open changed anything.</summary>
public sealed class SegmentWriterPreviousTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private string SegmentPath => _dir.Combine("shm0");

    public void Dispose() => _dir.Dispose();

    /// <summary>(what, file content or null for no file, state, generation, reason).</summary>
    public static TheoryData<string, byte[]?, PreviousSegmentState, ushort, string> Unusable => new()
    {
        { "missing", null, PreviousSegmentState.NoSegment, 0, "no segment" },
        {
            "invalid magic", [.. Header(version: 2, generation: 4, magicHex: "4E5A4D4100024244"), .. Hex(SampleRecordHex)],
            PreviousSegmentState.Replaced, 0, "replaced: bad magic 0x44420200414D5A4E"
        },
        { "shorter than the header", Header(version: 2, generation: 4)[..10], PreviousSegmentState.Replaced, 0, "replaced: 10 bytes, shorter than the 16-byte header" },
        {
            "shorter than the segment", SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex))[..40],
            PreviousSegmentState.Replaced, 0, "replaced: file is 40 bytes, expected at least 80"
        },
        {
            "segment size field 40", SegmentBytes(version: 2, generation: 4, Hex(SampleRecordHex), size: 40),
            PreviousSegmentState.Replaced, 0, "replaced: segment size 40, expected at least 80"
        },
        { "version 1", SegmentBytes(version: 1, generation: 4, Hex(SampleRecordHex)), PreviousSegmentState.Replaced, 0, "replaced: layout version 1, expected 2" },
        { "version 0", SegmentBytes(version: 0, generation: 4, Hex(SampleRecordHex)), PreviousSegmentState.Replaced, 0, "replaced: layout version 0 (not usable yet)" },
        { "generation 0", SegmentBytes(version: 2, generation: 0, Hex(SampleRecordHex)), PreviousSegmentState.NeverWritten, 0, "never written" },
        { "odd generation", SegmentBytes(version: 2, generation: 7, Hex(SampleRecordHex)), PreviousSegmentState.Torn, 7, "torn: odd generation 7" },
        { "odd generation 65535", SegmentBytes(version: 2, generation: 65535, Hex(SampleRecordHex)), PreviousSegmentState.Torn, 65535, "torn: odd generation 65535" },
    };

    [Theory]
    [MemberData(nameof(Unusable))]
    public void Previous_must_say_why_there_is_no_usable_record(string what, byte[]? content, PreviousSegmentState state, ushort generation, string reason)
    {
        if (content is not null) File.WriteAllBytes(SegmentPath, content);

        using var writer = SegmentWriter.Open(SegmentPath);

        Assert.True(writer.Previous is { Record: null } previous && previous.State == state && previous.Generation == generation
            && previous.Reason == reason && previous.ToString() == reason, $"{what}: {writer.Previous.State} {writer.Previous.Generation} {writer.Previous}");
    }

    public static TheoryData<ClockStatus, bool> StatusesAndDisruptionSupport()
    {
        var data = new TheoryData<ClockStatus, bool>();
        foreach (var status in Enum.GetValues<ClockStatus>())
        {
            data.Add(status, false);
            data.Add(status, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StatusesAndDisruptionSupport))]
    public void Previous_must_be_the_record_a_previous_writer_left(ClockStatus status, bool disruptionSupport)
    {
        var left = SampleRecord with { Status = status, ClockDisruptionSupportEnabled = disruptionSupport, DisruptionMarker = 0x1234_5678_9ABC };
        using (var previous = SegmentWriter.Open(SegmentPath))
        {
            previous.Write(SampleRecord);
            previous.Write(left);
        }

        using var writer = SegmentWriter.Open(SegmentPath);

        Assert.Equal(PreviousSegmentState.Written, writer.Previous.State);
        Assert.Equal(left, writer.Previous.Record);
        Assert.Equal((ushort)4, writer.Previous.Generation);
        Assert.Null(writer.Previous.Reason);
        Assert.Equal($"generation 4: {left}", writer.Previous.ToString());
    }

    [Fact]
    public void Previous_must_decode_a_record_assembled_from_the_spec_table()
    {
        File.WriteAllBytes(SegmentPath, SegmentBytes(version: 2, generation: 42, Hex(SampleRecordHex)));

        using var writer = SegmentWriter.Open(SegmentPath);

        Assert.Equal((PreviousSegmentState.Written, (ushort)42, (ClockErrorBound?)SampleRecord),
            (writer.Previous.State, writer.Previous.Generation, writer.Previous.Record));
    }

    [Fact]
    public void Previous_must_stay_what_the_file_held_at_open_after_the_writer_writes()
    {
        using (var previous = SegmentWriter.Open(SegmentPath)) previous.Write(SampleRecord);
        using var writer = SegmentWriter.Open(SegmentPath);

        writer.Write(SampleRecord with { Status = ClockStatus.Disrupted });

        Assert.Equal(SampleRecord, writer.Previous.Record);
        Assert.Equal((ushort)2, writer.Previous.Generation);
    }

    [Fact]
    public void Previous_must_be_never_written_after_a_writer_that_opened_the_segment_and_wrote_nothing()
    {
        using (SegmentWriter.Open(SegmentPath)) { }

        using var writer = SegmentWriter.Open(SegmentPath);

        Assert.Equal(PreviousSegmentState.NeverWritten, writer.Previous.State);
    }
}
