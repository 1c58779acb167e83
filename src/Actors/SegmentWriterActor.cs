using Akka.Actor;
using Akka.Event;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Actors;

/// <summary>
/// The only owner of the segment file: takes over the writer the host opened at start (see <see cref="OpenedSegment"/>)
/// or opens the segment itself (keeping a valid segment of a previous daemon, see <see cref="SegmentWriter.Open"/>),
/// writes every <see cref="PublishBound"/> and announces each write as <see cref="SegmentWritten"/> on the event stream.
/// Failures are not handled here: an exception stops or restarts the actor through its parent's supervision, and the
/// restart re-opens the segment.
/// </summary>
public sealed class SegmentWriterActor : ReceiveActor
{
    private readonly string _shmPath;
    private readonly OpenedSegment? _opened;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private SegmentWriter? _writer;

    /// <summary>Props; <paramref name="opened"/> is the segment the host already opened, used by the first instance.</summary>
    public static Props Props(string shmPath, OpenedSegment? opened = null) =>
        Akka.Actor.Props.Create(() => new SegmentWriterActor(shmPath, opened));

    /// <summary>Use <see cref="Props"/>; public only because Akka creates actors by reflection.</summary>
    public SegmentWriterActor(string shmPath, OpenedSegment? opened)
    {
        _shmPath = shmPath;
        _opened = opened;
        Receive<PublishBound>(Write);
        Receive<InjectFault>(InjectFault.Throw);
    }

    protected override void PreStart()
    {
        _writer = _opened?.Take() ?? SegmentWriter.Open(_shmPath);
        _log.Info("Publishing the clock error bound in {0} (generation {1})", _writer.Path, _writer.Generation);
    }

    protected override void PostStop()
    {
        _writer?.Dispose();
        _writer = null;
    }

    private void Write(PublishBound publish)
    {
        var writer = _writer ?? throw new InvalidOperationException($"segment {_shmPath} is not open");
        writer.Write(publish.Bound);
        Context.System.EventStream.Publish(new SegmentWritten(writer.Generation, Clocks.MonotonicCoarse(), publish));
    }
}

/// <summary>
/// The segment the host opened (and locked) at start, after reading what the previous run left in it: handed over to the
/// first segment-writer instance, so that the segment is opened once and nothing can slip in between. A restarted writer
/// finds it taken and opens the segment again.
/// </summary>
public sealed class OpenedSegment(SegmentWriter writer)
{
    private SegmentWriter? _writer = writer;

    /// <summary>The writer, to the first caller; null afterwards.</summary>
    public SegmentWriter? Take() => Interlocked.Exchange(ref _writer, null);
}
