namespace ClockBound.Io.Chrony;

/// <summary>chronyd's 32-bit wire float: a 7-bit signed exponent above a 25-bit signed coefficient, value = c × 2^(e − 25).</summary>
public static class ChronyFloat
{
    private const int CoefficientBits = 25;
    private const int ExponentBits = 32 - CoefficientBits;

    /// <summary>Decodes the big-endian u32 <paramref name="raw"/> read from the wire.</summary>
    public static double Decode(uint raw)
    {
        // Arithmetic shifts of the reinterpreted int sign-extend both fields.
        var exponent = (int)raw >> CoefficientBits;
        var coefficient = (int)(raw << ExponentBits) >> ExponentBits;
        return Math.ScaleB(coefficient, exponent - CoefficientBits);
    }
}
