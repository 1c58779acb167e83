using ClockBound.Actors.StateMachine;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Daemon;

/// <summary>Reads what the previous run left in the segment, before this run writes anything (the start rule's input).</summary>
internal static class PreviousRunReader
{
    public static PreviousRun Read(string shmPath)
    {
        if (!File.Exists(shmPath))
            return PreviousRun.Unusable("no segment");
        try
        {
            using var reader = SegmentReader.Open(shmPath);
            return PreviousRun.Left(reader.Snapshot());
        }
        catch (ClockBoundException e)
        {
            return PreviousRun.Unusable(e.Message);
        }
    }
}
