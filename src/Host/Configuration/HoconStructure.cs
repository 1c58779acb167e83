namespace ClockBound.Host.Configuration;

/// <summary>
/// Akka's HOCON parser accepts some broken files silently (stray or missing closing braces). A truncated or mangled
/// configuration must be refused, not half-applied, so braces and brackets are checked before parsing.
/// </summary>
internal static class HoconStructure
{
    /// <summary>Returns null when braces and brackets balance outside strings and comments, else a description with the line.</summary>
    public static string? FindImbalance(string text)
    {
        var open = new Stack<(char Bracket, int Line)>();
        int line = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n':
                    line++;
                    break;
                case '#':
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    while (i + 1 < text.Length && text[i + 1] != '\n') i++;
                    break;
                case '"':
                    bool triple = i + 2 < text.Length && text[i + 1] == '"' && text[i + 2] == '"';
                    int end = triple ? text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal) : ClosingQuote(text, i + 1);
                    if (end < 0) return $"unterminated string at line {line}";
                    for (int j = i; j < end; j++) if (text[j] == '\n') line++;
                    i = triple ? end + 2 : end;
                    break;
                case '{' or '[':
                    open.Push((c, line));
                    break;
                case '}' or ']':
                    char expected = c == '}' ? '{' : '[';
                    if (open.Count == 0 || open.Peek().Bracket != expected)
                        return $"unexpected '{c}' at line {line}";
                    open.Pop();
                    break;
            }
        }
        return open.Count > 0 ? $"'{open.Peek().Bracket}' at line {open.Peek().Line} is never closed" : null;
    }

    private static int ClosingQuote(string text, int from)
    {
        for (int i = from; i < text.Length; i++)
        {
            if (text[i] == '\\') { i++; continue; }
            if (text[i] == '"') return i;
            if (text[i] == '\n') return -1;
        }
        return -1;
    }
}
