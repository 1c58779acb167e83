using Akka.Actor;
using Akka.Event;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Actors;

/// <summary>
/// The only owner of the segment file: opens it on start (keeping a valid segment of a previous daemon, see
/// <see cref="SegmentWriter.Open"/>), writes every <see cref="PublishBound"/> and announces each write as
/// <see cref="SegmentWritten"/> on the event stream. Failures are not handled here: an exception stops or restarts the
/// actor through its parent's supervision, and the restart re-opens the segment.
/// </summary>
public sealed class SegmentWriterActor : ReceiveActor
{
    private readonly string _shmPath;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private SegmentWriter? _writer;

    public static Props Props(string shmPath) => Akka.Actor.Props.Create(() => new SegmentWriterActor(shmPath));

    /// <summary>Use <see cref="Props"/>; public only because Akka creates actors by reflection.</summary>
    public SegmentWriterActor(string shmPath)
    {
        _shmPath = shmPath;
        Receive<PublishBound>(Write);
        Receive<InjectFault>(InjectFault.Throw);
    }

    protected override void PreStart()
    {
        _writer = SegmentWriter.Open(_shmPath);
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
        Context.System.EventStream.Publish(new SegmentWritten(writer.Generation, publish.Bound.Status, Clocks.MonotonicCoarse()) { Bound = publish.Bound });
    }
}
