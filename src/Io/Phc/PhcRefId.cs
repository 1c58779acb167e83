namespace ClockBound.Io.Phc;

/// <summary>
/// chrony reference ids given as up to 4 ASCII characters ("PHC0" = 0x50484330): the characters packed big-endian,
/// a shorter id padded with zero bytes on the right ("GPS" = 0x47505300), as chrony does for a refclock's refid.
/// </summary>
public static class PhcRefId
{
    /// <summary>A reference id is a u32: at most four one-byte characters.</summary>
    public const int MaxLength = 4;

    /// <summary>Packs big-endian; throws <see cref="FormatException"/> naming the value for empty, longer than 4, or
    /// anything but visible ASCII characters (no spaces, no control characters).</summary>
    public static uint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length is 0 or > MaxLength)
            throw new FormatException($"PHC reference id \"{text}\" must be 1 to {MaxLength} ASCII characters, e.g. PHC0");
        uint refId = 0;
        for (int i = 0; i < MaxLength; i++)
        {
            char c = i < text.Length ? text[i] : '\0';
            if (i < text.Length && !IsVisibleAscii(c))
                throw new FormatException(
                    $"PHC reference id \"{text}\" contains U+{(int)c:X4} at position {i + 1}; only visible ASCII characters are allowed");
            refId = (refId << 8) | c;
        }
        return refId;
    }

    /// <summary>The inverse of <see cref="Parse"/>; an id that is not 1-4 visible ASCII characters followed by zero
    /// bytes (e.g. an IPv4 address id such as 0x7F000001) is shown in hex, "0x7F000001", which Parse rejects.</summary>
    public static string Format(uint refId)
    {
        Span<char> text = stackalloc char[MaxLength];
        int length = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            char c = (char)((refId >> shift) & 0xFF);
            if (c == '\0')
                break;
            if (!IsVisibleAscii(c))
                return $"0x{refId:X8}";
            text[length++] = c;
        }
        // Characters after the first zero byte, or no character at all, cannot come from Parse.
        bool padding = length == MaxLength || (refId & (uint.MaxValue >> (8 * length))) == 0;
        return length > 0 && padding ? new string(text[..length]) : $"0x{refId:X8}";
    }

    private static bool IsVisibleAscii(char c) => c is > ' ' and <= '~';
}
