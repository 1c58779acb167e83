using Akka.TestKit.Xunit2;
using ClockBound.TestSupport;

namespace ClockBound.Actors.Tests.IoActors;

/// <summary>The reader on a directory tree with sysfs's layout (the ENA PHC cannot exist here), read by the real reader.</summary>
public sealed class PhcReaderActorTests : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private const string Interface = "ens5";
    private const string PciSlot = "0000:00:05.0";

    private readonly TempDirectory _sysfs = new("cbphc");

    private ClockBoundSettings Settings => new()
    {
        SysfsRoot = _sysfs.Path,
        PhcInterface = Interface,
        PhcReferenceId = 0x50484330,
        PhcReadInterval = TimeSpan.FromMilliseconds(20),
        RestartBackoffMin = TimeSpan.FromMilliseconds(10),
        RestartBackoffMax = TimeSpan.FromMilliseconds(100),
    };

    private string ErrorBoundPath => _sysfs.Combine("sys", "bus", "pci", "devices", PciSlot, "phc_error_bound");

    [Fact]
    public void Reader_must_report_the_error_bound_and_its_changes()
    {
        CreateSysfs(errorBound: "12345\n");
        var clockStatus = CreateTestProbe();
        Sys.ActorOf(PhcReaderActor.Props(Settings, clockStatus));
        clockStatus.ExpectMsg<PhcBoundRead>(m => m.ErrorBoundNanoseconds == 12345, Patience);

        File.WriteAllText(ErrorBoundPath, "678\n");

        clockStatus.FishForMessage(m => m is PhcBoundRead { ErrorBoundNanoseconds: 678 }, Patience);
    }

    [Fact]
    public void Reader_must_report_a_failed_read_and_recover_when_the_file_is_back()
    {
        CreateSysfs(errorBound: "500");
        var clockStatus = CreateTestProbe();
        Sys.ActorOf(PhcReaderActor.Props(Settings, clockStatus));
        clockStatus.ExpectMsg<PhcBoundRead>(m => m.ErrorBoundNanoseconds == 500, Patience);

        File.WriteAllText(ErrorBoundPath, "not a number");
        var failed = (PhcReadFailed)clockStatus.FishForMessage(m => m is PhcReadFailed, Patience);
        Assert.Contains("phc_error_bound", failed.Reason);

        File.WriteAllText(ErrorBoundPath, "501");
        clockStatus.FishForMessage(m => m is PhcBoundRead { ErrorBoundNanoseconds: 501 }, Patience);
    }

    [Fact]
    public void Reader_must_report_an_unresolvable_interface_and_be_retried_under_supervision()
    {
        var clockStatus = CreateTestProbe();
        var settings = Settings;
        Sys.ActorOf(Supervision.WithBackoff(PhcReaderActor.Props(settings, clockStatus), "phc-reader", settings));
        var failed = clockStatus.ExpectMsg<PhcReadFailed>(Patience);
        Assert.Contains(Interface, failed.Reason);

        CreateSysfs(errorBound: "900");

        clockStatus.FishForMessage(m => m is PhcBoundRead { ErrorBoundNanoseconds: 900 }, Patience);
    }

    /// <summary>/sys/class/net/IFACE/device/uevent → PCI_SLOT_NAME → /sys/bus/pci/devices/SLOT/phc_error_bound.</summary>
    private void CreateSysfs(string errorBound)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(ErrorBoundPath)!);
        File.WriteAllText(ErrorBoundPath, errorBound);
        var device = _sysfs.Combine("sys", "class", "net", Interface, "device");
        Directory.CreateDirectory(device);
        File.WriteAllText(Path.Combine(device, "uevent"), $"DRIVER=ena\nPCI_CLASS=20000\nPCI_SLOT_NAME={PciSlot}\n");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _sysfs.Dispose();
    }
}
