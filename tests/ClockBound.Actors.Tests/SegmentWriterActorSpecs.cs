using Akka.Actor;
using ClockBound.Io;
using ClockBound.Io.Segment;
using ClockBound.TestSupport;
using Xunit.Abstractions;

namespace ClockBound.Actors.Tests;

/// <summary>The segment writer actor against a real segment file, decoded by hand at the offsets of shm-v2.md.</summary>
public sealed class SegmentWriterActorSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    private readonly TempDirectory _dir = new("cbseg");

    private static readonly ClockErrorBound Record = new(
        AsOf: new Timespec(12_345, 678_000_000),
        VoidAfter: new Timespec(13_345, 678_000_000),
        BoundNanoseconds: 1_586_915,
        DisruptionMarker: 0x0102_0304_0506_0708,
        MaxDriftPpb: 50_000,
        Status: ClockStatus.FreeRunning,
        ClockDisruptionSupportEnabled: true);

    private string ShmPath => _dir.Combine("clockbound", "shm0");

    private (IActorRef Writer, Akka.TestKit.TestProbe Written) StartWriter()
    {
        var written = CreateTestProbe();
        Sys.EventStream.Subscribe(written, typeof(SegmentWritten));
        return (Sys.ActorOf(SegmentWriterActor.Props(ShmPath)), written);
    }

    [Fact]
    public void A_published_record_must_land_in_the_segment_at_the_spec_offsets()
    {
        var (writer, written) = StartWriter();
        var before = Clocks.MonotonicCoarse();

        writer.Tell(new PublishBound(Record));

        var done = written.ExpectMsg<SegmentWritten>();
        Assert.Equal(ClockStatus.FreeRunning, done.Status);
        Assert.True(done.WrittenAt >= before && done.WrittenAt <= Clocks.MonotonicCoarse(), $"WrittenAt {done.WrittenAt} is not CLOCK_MONOTONIC_COARSE");

        var bytes = File.ReadAllBytes(ShmPath);
        Assert.Equal(80, bytes.Length);
        Assert.Equal(new byte[] { 0x4E, 0x5A, 0x4D, 0x41, 0x00, 0x02, 0x42, 0x43 }, bytes[..8]);
        Assert.Equal(80u, BitConverter.ToUInt32(bytes, 8));
        Assert.Equal((ushort)2, BitConverter.ToUInt16(bytes, 12));
        var generation = BitConverter.ToUInt16(bytes, 14);
        Assert.Equal(done.Generation, generation);
        Assert.True(generation != 0 && generation % 2 == 0, $"generation {generation} must be even and non-zero");
        Assert.Equal(12_345L, BitConverter.ToInt64(bytes, 16));
        Assert.Equal(678_000_000L, BitConverter.ToInt64(bytes, 24));
        Assert.Equal(13_345L, BitConverter.ToInt64(bytes, 32));
        Assert.Equal(678_000_000L, BitConverter.ToInt64(bytes, 40));
        Assert.Equal(1_586_915L, BitConverter.ToInt64(bytes, 48));
        Assert.Equal(0x0102_0304_0506_0708UL, BitConverter.ToUInt64(bytes, 56));
        Assert.Equal(50_000u, BitConverter.ToUInt32(bytes, 64));
        Assert.Equal(2, BitConverter.ToInt32(bytes, 68));
        Assert.Equal(1, bytes[72]);
        Assert.All(bytes[73..80], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Each_publish_must_advance_the_generation_by_two()
    {
        var (writer, written) = StartWriter();

        writer.Tell(new PublishBound(Record));
        var first = written.ExpectMsg<SegmentWritten>().Generation;
        writer.Tell(new PublishBound(Record with { Status = ClockStatus.Disrupted, DisruptionMarker = 9 }));
        var second = written.ExpectMsg<SegmentWritten>();

        Assert.Equal((ushort)(first + 2), second.Generation);
        Assert.Equal(ClockStatus.Disrupted, second.Status);
        var bytes = File.ReadAllBytes(ShmPath);
        Assert.Equal(second.Generation, BitConverter.ToUInt16(bytes, 14));
        Assert.Equal(9UL, BitConverter.ToUInt64(bytes, 56));
        Assert.Equal(3, BitConverter.ToInt32(bytes, 68));
    }

    [Fact]
    public void A_new_writer_must_keep_the_segment_of_its_predecessor_and_continue_its_generation()
    {
        var (writer, written) = StartWriter();
        writer.Tell(new PublishBound(Record));
        var last = written.ExpectMsg<SegmentWritten>().Generation;
        Watch(writer);
        Sys.Stop(writer);
        ExpectTerminated(writer);
        var afterStop = File.ReadAllBytes(ShmPath);

        var (successor, successorWritten) = StartWriter();
        // Identify is answered only after PreStart has opened the segment.
        successor.Tell(new Identify(null), TestActor);
        ExpectMsg<ActorIdentity>();
        var bytes = File.ReadAllBytes(ShmPath);
        Assert.Equal(afterStop[16..], bytes[16..]);
        Assert.Equal(last, BitConverter.ToUInt16(bytes, 14));

        successor.Tell(new PublishBound(Record with { BoundNanoseconds = 2_000_000 }));
        Assert.Equal((ushort)(last + 2), successorWritten.ExpectMsg<SegmentWritten>().Generation);
        Assert.Equal(2_000_000L, BitConverter.ToInt64(File.ReadAllBytes(ShmPath), 48));
    }

    [Fact]
    public void A_segment_that_cannot_be_created_must_stop_the_actor_at_start()
    {
        // A regular file where the segment's directory should be.
        File.WriteAllText(_dir.Combine("clockbound"), "not a directory");

        var (writer, _) = StartWriter();
        Watch(writer);

        ExpectTerminated(writer);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
            _dir.Dispose();
    }
}
