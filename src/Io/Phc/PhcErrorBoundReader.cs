namespace ClockBound.Io.Phc;

/// <summary>Reads the ENA PHC's error bound (ns) from sysfs: IFACE's uevent → PCI_SLOT_NAME → phc_error_bound.</summary>
public sealed class PhcErrorBoundReader
{
    /// <summary>Resolves the phc_error_bound path under <paramref name="sysfsRoot"/> (default "/"). Throws <see cref="PhcException"/> naming the missing file or line.</summary>
    public static PhcErrorBoundReader Resolve(string interfaceName, string sysfsRoot = "/") => throw new NotImplementedException();

    public string ErrorBoundPath => throw new NotImplementedException();

    /// <summary>Reads and parses the file (integer ns, whitespace trimmed). Throws <see cref="PhcException"/>.</summary>
    public long ReadErrorBoundNanoseconds() => throw new NotImplementedException();
}

public sealed class PhcException(string path, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Path { get; } = path;
}
