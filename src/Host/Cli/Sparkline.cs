namespace ClockBound.Host.Cli;

/// <summary>A one-line chart of a series with the eight block characters ▁▂▃▄▅▆▇█, scaled between its minimum and maximum.</summary>
internal static class Sparkline
{
    private const string Levels = "▁▂▃▄▅▆▇█";

    /// <summary>The last <paramref name="width"/> values; a flat series is drawn at the lowest level.</summary>
    public static string Render(IReadOnlyList<long> values, int width)
    {
        int count = Math.Min(values.Count, Math.Max(width, 0));
        if (count == 0) return "";
        long min = long.MaxValue, max = long.MinValue;
        for (int i = values.Count - count; i < values.Count; i++)
        {
            min = Math.Min(min, values[i]);
            max = Math.Max(max, values[i]);
        }
        var chars = new char[count];
        for (int i = 0; i < count; i++)
        {
            long v = values[values.Count - count + i];
            int level = max == min ? 0 : (int)((Int128)(v - min) * (Levels.Length - 1) / (max - min));
            chars[i] = Levels[level];
        }
        return new string(chars);
    }
}
