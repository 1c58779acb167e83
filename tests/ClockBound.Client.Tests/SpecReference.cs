using System.Numerics;
using ClockBound.TestSupport;

namespace ClockBound.Client.Tests;

/// <summary>
/// docs/segment-format.md "Computing bounded time", steps 1-5, transcribed in arbitrary-precision integers over the
/// raw bytes of the segment file (<see cref="RawSegment"/>): the oracle the client's answers are compared with.
/// </summary>
internal static class SpecReference
{
    public sealed record Answer(int Status, BigInteger Bound, BigInteger Earliest, BigInteger Latest, bool Malformed, bool CausalityBreach);

    private static readonly BigInteger Billion = 1_000_000_000;

    public static Answer Compute(RawSegment segment, BigInteger realtimeNs, BigInteger monoNs)
    {
        if (segment.MaxDriftPpb >= 1_000_000_000) return new Answer(0, 0, 0, 0, Malformed: true, CausalityBreach: false);
        BigInteger asOf = segment.AsOfSec * Billion + segment.AsOfNsec;
        BigInteger voidAfter = segment.VoidAfterSec * Billion + segment.VoidAfterNsec;

        int status = segment.ClockStatus switch
        {
            RawSegment.Unknown or RawSegment.Disrupted => segment.ClockStatus,
            RawSegment.Synchronized or RawSegment.FreeRunning when monoNs < asOf + 5 * Billion => segment.ClockStatus,
            RawSegment.Synchronized or RawSegment.FreeRunning when monoNs < voidAfter => RawSegment.FreeRunning,
            _ => RawSegment.Unknown,
        };

        BigInteger elapsed = monoNs - asOf;
        if (elapsed < 0)
        {
            if (-elapsed >= 1_000) return new Answer(status, 0, 0, 0, Malformed: false, CausalityBreach: true);
            elapsed = 0;
        }
        BigInteger bound = segment.BoundNsec + elapsed * segment.MaxDriftPpb / Billion;
        return new Answer(status, bound, realtimeNs - bound, realtimeNs + bound, Malformed: false, CausalityBreach: false);
    }
}
