using System.Globalization;

namespace ClockBound.TestSupport;

/// <summary>One line of <c>chronyc -c tracking</c>, chronyc's own decoding of the tracking reply (an independent reference
/// for our decoder). Times in seconds, frequencies in ppm.</summary>
public sealed record ChronydTracking(
    uint ReferenceId,
    string ReferenceName,
    int Stratum,
    decimal ReferenceTime,
    double CurrentCorrection,
    double LastOffset,
    double RmsOffset,
    double Frequency,
    double ResidualFrequency,
    double Skew,
    double RootDelay,
    double RootDispersion,
    double LastUpdateInterval,
    string LeapStatus)
{
    /// <summary>Synchronised to the sandbox's loopback server and past the first-sample state (update interval 0).</summary>
    public bool IsSynchronisedToLoopback =>
        LeapStatus == "Normal" && ReferenceId == 0x7F000001 && LastUpdateInterval > 0;

    /// <summary>Parses chronyc's CSV line; throws <see cref="FormatException"/> naming the line otherwise.</summary>
    public static ChronydTracking Parse(string line)
    {
        var f = line.Trim().Split(',');
        if (f.Length != 14) throw new FormatException($"chronyc -c tracking printed {f.Length} fields, expected 14: '{line}'");
        var c = CultureInfo.InvariantCulture;
        return new ChronydTracking(
            uint.Parse(f[0], NumberStyles.HexNumber, c), f[1], int.Parse(f[2], c), decimal.Parse(f[3], c),
            double.Parse(f[4], c), double.Parse(f[5], c), double.Parse(f[6], c), double.Parse(f[7], c), double.Parse(f[8], c),
            double.Parse(f[9], c), double.Parse(f[10], c), double.Parse(f[11], c), double.Parse(f[12], c), f[13]);
    }
}
