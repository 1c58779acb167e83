using ClockBound.Io.Phc;
using ClockBound.TestSupport;

namespace ClockBound.Io.Tests.Phc;

/// <summary>Runs against a sysfs tree laid out like an EC2 instance's under a temporary root.</summary>
public sealed class PhcErrorBoundReaderTests : IDisposable
{
    private const string Slot = "0000:00:05.0";

    // What the ENA driver's device shows in uevent (PCI_SLOT_NAME is not the first line).
    private const string EnaUevent =
        "DRIVER=ena\nPCI_CLASS=20000\nPCI_ID=1D0F:EC20\nPCI_SUBSYS_ID=1D0F:EC20\nPCI_SLOT_NAME=0000:00:05.0\nMODALIAS=pci:v00001D0Fd0000EC20sv00001D0Fsd0000EC20bc02sc00i00\n";

    private readonly TempDirectory _root = new("sysfs");

    public void Dispose() => _root.Dispose();

    private string UeventPath => _root.Combine("sys", "class", "net", "eth0", "device", "uevent");

    private string BoundPath => _root.Combine("sys", "bus", "pci", "devices", Slot, "phc_error_bound");

    private void WriteFile(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private void MakeTree(string uevent = EnaUevent, string? bound = "12345\n")
    {
        WriteFile(UeventPath, uevent);
        if (bound is not null)
            WriteFile(BoundPath, bound);
    }

    [Fact]
    public void Resolve_must_follow_the_interfaces_PCI_slot_to_phc_error_bound()
    {
        MakeTree();

        var reader = PhcErrorBoundReader.Resolve("eth0", _root.Path);

        Assert.Equal(BoundPath, reader.ErrorBoundPath);
        Assert.Equal(12345, reader.ReadErrorBoundNanoseconds());
    }

    [Fact]
    public void Resolve_must_report_a_missing_uevent_naming_it()
    {
        var e = Assert.Throws<PhcException>(() => PhcErrorBoundReader.Resolve("eth0", _root.Path));

        Assert.Equal(UeventPath, e.Path);
        Assert.Contains(UeventPath, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Resolve_must_report_a_uevent_without_PCI_SLOT_NAME_naming_it()
    {
        MakeTree(uevent: "DRIVER=ena\nPCI_CLASS=20000\n");

        var e = Assert.Throws<PhcException>(() => PhcErrorBoundReader.Resolve("eth0", _root.Path));

        Assert.Equal(UeventPath, e.Path);
        Assert.Contains($"{UeventPath} has no PCI_SLOT_NAME= line", e.Message);
    }

    [Theory]
    [InlineData("PCI_SLOT_NAME=")]
    [InlineData("PCI_SLOT_NAME=../../../etc")]
    [InlineData("PCI_SLOT_NAME=..")]
    public void Resolve_must_reject_a_PCI_SLOT_NAME_that_is_not_a_slot(string line)
    {
        MakeTree(uevent: $"DRIVER=ena\n{line}\n");

        var e = Assert.Throws<PhcException>(() => PhcErrorBoundReader.Resolve("eth0", _root.Path));

        Assert.Equal(UeventPath, e.Path);
        Assert.Contains(line, e.Message);
    }

    [Fact]
    public void Resolve_must_report_a_missing_phc_error_bound_naming_it()
    {
        MakeTree(bound: null);

        var e = Assert.Throws<PhcException>(() => PhcErrorBoundReader.Resolve("eth0", _root.Path));

        Assert.Equal(BoundPath, e.Path);
        Assert.Contains($"{BoundPath} does not exist", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("eth0/../eth1")]
    [InlineData("/")]
    public void Resolve_must_reject_an_interface_name_that_is_not_one_path_component(string name)
    {
        MakeTree();

        var e = Assert.Throws<PhcException>(() => PhcErrorBoundReader.Resolve(name, _root.Path));

        Assert.Contains($"PHC interface name \"{name}\"", e.Message);
    }

    [Theory]
    [InlineData("1234", 1234)]
    [InlineData("1234\n", 1234)]
    [InlineData("  42 \t\r\n", 42)]
    [InlineData("0\n", 0)]
    [InlineData("9223372036854775807\n", long.MaxValue)]
    public void ReadErrorBoundNanoseconds_must_parse_an_integer_with_whitespace_trimmed(string content, long expected)
    {
        MakeTree(bound: content);
        var reader = PhcErrorBoundReader.Resolve("eth0", _root.Path);

        Assert.Equal(expected, reader.ReadErrorBoundNanoseconds());
    }

    [Theory]
    [InlineData("", "\"\"")]
    [InlineData("\n", "\"\"")]
    [InlineData("abc\n", "\"abc\"")]
    [InlineData("-5\n", "\"-5\"")]
    [InlineData("+5\n", "\"+5\"")]
    [InlineData("1.5\n", "\"1.5\"")]
    [InlineData("12 34\n", "\"12 34\"")]
    [InlineData("0x10\n", "\"0x10\"")]
    [InlineData("9223372036854775808\n", "\"9223372036854775808\"")]
    [InlineData("1000000000000000000000000000000000000000000000000000000000000000000000\n", "\"100000000000000000000")]
    public void ReadErrorBoundNanoseconds_must_reject_anything_but_a_non_negative_integer_naming_path_and_content(
        string content, string shown)
    {
        MakeTree(bound: content);
        var reader = PhcErrorBoundReader.Resolve("eth0", _root.Path);

        var e = Assert.Throws<PhcException>(() => reader.ReadErrorBoundNanoseconds());

        Assert.Equal(BoundPath, e.Path);
        Assert.Contains(BoundPath, e.Message);
        Assert.Contains(shown, e.Message);
    }

    [Fact]
    public void ReadErrorBoundNanoseconds_must_see_each_new_value()
    {
        MakeTree(bound: "100\n");
        var reader = PhcErrorBoundReader.Resolve("eth0", _root.Path);
        long first = reader.ReadErrorBoundNanoseconds();

        File.WriteAllText(BoundPath, "250\n");

        Assert.Equal((100L, 250L), (first, reader.ReadErrorBoundNanoseconds()));
    }

    [Fact]
    public void ReadErrorBoundNanoseconds_must_report_a_file_that_disappeared_naming_it()
    {
        MakeTree();
        var reader = PhcErrorBoundReader.Resolve("eth0", _root.Path);

        File.Delete(BoundPath);
        var e = Assert.Throws<PhcException>(() => reader.ReadErrorBoundNanoseconds());

        Assert.Equal(BoundPath, e.Path);
        Assert.Contains(BoundPath, e.Message);
    }
}
