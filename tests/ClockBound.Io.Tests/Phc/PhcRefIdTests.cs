using ClockBound.Io.Phc;

namespace ClockBound.Io.Tests.Phc;

public class PhcRefIdTests
{
    [Theory]
    [InlineData("PHC0", 0x50484330u)]
    [InlineData("GPS", 0x47505300u)]
    [InlineData("PP", 0x50500000u)]
    [InlineData("A", 0x41000000u)]
    [InlineData("NMEA", 0x4E4D4541u)]
    [InlineData("!~!~", 0x217E217Eu)]
    public void Parse_must_pack_big_endian_padding_with_zero_bytes_on_the_right(string text, uint expected)
    {
        Assert.Equal(expected, PhcRefId.Parse(text));
    }

    [Theory]
    [InlineData("", "1 to 4 ASCII characters")]
    [InlineData("PHC01", "1 to 4 ASCII characters")]
    [InlineData("PH C", "U+0020 at position 3")]
    [InlineData("\tPHC", "U+0009 at position 1")]
    [InlineData("PHé", "U+00E9 at position 3")]
    [InlineData("P\u007F", "U+007F at position 2")]
    public void Parse_must_reject_anything_but_1_to_4_visible_ASCII_characters_naming_the_value(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => PhcRefId.Parse(text));

        Assert.Contains($"\"{text}\"", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData(0x50484330u, "PHC0")]
    [InlineData(0x47505300u, "GPS")]
    [InlineData(0x41000000u, "A")]
    [InlineData(0x7F000001u, "0x7F000001")] // an IPv4 source's id (127.0.0.1)
    [InlineData(0x00000000u, "0x00000000")] // chronyd with no reference
    [InlineData(0x41004200u, "0x41004200")] // a character after the padding
    [InlineData(0x50482030u, "0x50482030")] // a space
    [InlineData(0x004B4C43u, "0x004B4C43")] // padding first
    public void Format_must_show_text_ids_as_text_and_everything_else_in_hex(uint refId, string expected)
    {
        Assert.Equal(expected, PhcRefId.Format(refId));
    }

    [Theory]
    [InlineData("PHC0")]
    [InlineData("GPS")]
    [InlineData("Z")]
    [InlineData("a{|}")]
    public void Format_must_invert_Parse(string text)
    {
        Assert.Equal(text, PhcRefId.Format(PhcRefId.Parse(text)));
    }
}
