using System.Globalization;
using System.Text;

namespace ClockBound.Io.Phc;

/// <summary>Reads the ENA PHC's error bound (ns) from sysfs: IFACE's uevent → PCI_SLOT_NAME → phc_error_bound.</summary>
public sealed class PhcErrorBoundReader
{
    private const string SlotPrefix = "PCI_SLOT_NAME=";

    /// <summary>Room for a long's 19 digits, a sign and surrounding whitespace many times over; anything longer is not
    /// a number.</summary>
    private const int MaxContentBytes = 64;

    private PhcErrorBoundReader(string errorBoundPath) => ErrorBoundPath = errorBoundPath;

    /// <summary>Resolves the phc_error_bound path under <paramref name="sysfsRoot"/> (default "/"): reads
    /// <c>sys/class/net/IFACE/device/uevent</c>, takes its <c>PCI_SLOT_NAME=</c> line and checks that
    /// <c>sys/bus/pci/devices/SLOT/phc_error_bound</c> exists. Throws <see cref="PhcException"/> naming the missing file
    /// or line, or the invalid interface name.</summary>
    public static PhcErrorBoundReader Resolve(string interfaceName, string sysfsRoot = "/")
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        ArgumentNullException.ThrowIfNull(sysfsRoot);
        if (!IsPathComponent(interfaceName))
            throw new PhcException(interfaceName,
                $"PHC interface name \"{interfaceName}\" is not a network interface name (empty, \".\", \"..\" or containing '/')");

        string ueventPath = Path.Combine(sysfsRoot, "sys/class/net", interfaceName, "device/uevent");
        string[] uevent;
        try
        {
            uevent = File.ReadAllLines(ueventPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PhcException(ueventPath,
                $"PHC interface {interfaceName}: {ueventPath} does not exist; is {interfaceName} a network interface backed by a PCI device (ENA)?", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PhcException(ueventPath, $"PHC interface {interfaceName}: cannot read {ueventPath}: {e.Message}", e);
        }

        string? slotLine = Array.Find(uevent, line => line.StartsWith(SlotPrefix, StringComparison.Ordinal));
        if (slotLine is null)
            throw new PhcException(ueventPath, $"PHC interface {interfaceName}: {ueventPath} has no {SlotPrefix} line");
        string slot = slotLine[SlotPrefix.Length..].Trim();
        if (!IsPathComponent(slot))
            throw new PhcException(ueventPath, $"PHC interface {interfaceName}: {ueventPath} has an invalid line \"{slotLine}\"");

        string errorBoundPath = Path.Combine(sysfsRoot, "sys/bus/pci/devices", slot, "phc_error_bound");
        if (!File.Exists(errorBoundPath))
            throw new PhcException(errorBoundPath,
                $"PHC interface {interfaceName}: {errorBoundPath} does not exist; does the ENA driver of PCI device {slot} expose the PHC error bound?");
        return new PhcErrorBoundReader(errorBoundPath);
    }

    public string ErrorBoundPath { get; }

    /// <summary>Reads and parses the file (a non-negative integer of nanoseconds, whitespace trimmed).
    /// Throws <see cref="PhcException"/> naming the path and, for a parse failure, the content.</summary>
    public long ReadErrorBoundNanoseconds()
    {
        Span<byte> buffer = stackalloc byte[MaxContentBytes];
        int length;
        try
        {
            using var file = File.OpenHandle(ErrorBoundPath, FileMode.Open, FileAccess.Read);
            length = RandomAccess.Read(file, buffer, fileOffset: 0);
        }
        // NotSupportedException: not a file that can be read at an offset (a FIFO or a socket put in its place).
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new PhcException(ErrorBoundPath, $"PHC error bound {ErrorBoundPath} cannot be read: {e.Message}", e);
        }

        ReadOnlySpan<byte> content = buffer[..length];
        if (length < MaxContentBytes
            && long.TryParse(content.Trim(" \t\r\n"u8), NumberStyles.None, CultureInfo.InvariantCulture, out long nanoseconds))
            return nanoseconds;
        string shown = Encoding.UTF8.GetString(content) + (length == MaxContentBytes ? "..." : "");
        throw new PhcException(ErrorBoundPath,
            $"PHC error bound {ErrorBoundPath} holds \"{shown.Trim()}\", not a non-negative integer number of nanoseconds");
    }

    private static bool IsPathComponent(string name) => name.Length > 0 && name is not ("." or "..") && !name.Contains('/') && !name.Contains('\0');
}

/// <summary>A PHC failure; <see cref="Path"/> is the sysfs file concerned (or the invalid interface name).</summary>
public sealed class PhcException(string path, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Path { get; } = path;
}
