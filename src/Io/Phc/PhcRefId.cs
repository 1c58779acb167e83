namespace ClockBound.Io.Phc;

/// <summary>chrony reference ids given as up to 4 ASCII characters ("PHC0" = 0x50484330).</summary>
public static class PhcRefId
{
    /// <summary>Packs big-endian; throws <see cref="FormatException"/> with a readable message for empty, &gt;4 or non-ASCII input.</summary>
    public static uint Parse(string text) => throw new NotImplementedException();

    public static string Format(uint refId) => throw new NotImplementedException();
}
