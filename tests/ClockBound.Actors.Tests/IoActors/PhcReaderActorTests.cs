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

    [Fact]
    public void A_read_that_hangs_must_be_reported_failed_after_one_interval_and_no_other_read_started_meanwhile()
    {
        // A FIFO in place of the attribute: opening it blocks until a writer comes, as a hung driver would.
        CreateSysfs(errorBound: "");
        File.Delete(ErrorBoundPath);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", ErrorBoundPath)) mkfifo.WaitForExit();
        var clockStatus = CreateTestProbe();
        var reader = Sys.ActorOf(PhcReaderActor.Props(Settings, clockStatus));

        var failed = clockStatus.ExpectMsg<PhcReadFailed>(Patience);
        Assert.Contains($"({ErrorBoundPath}) has not completed within 20 ms", failed.Reason);
        // The hung read cannot be cancelled: nothing more until it ends (a second read would hang a second thread).
        clockStatus.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // The read ends at last (a FIFO cannot be read at an offset, so it ends in an error of its own, reported as such);
        // then the next read starts, hangs again and is reported again.
        ReleaseBlockedRead();
        Assert.Contains("cannot be read", clockStatus.ExpectMsg<PhcReadFailed>(Patience).Reason);
        Assert.Contains("has not completed", clockStatus.ExpectMsg<PhcReadFailed>(Patience).Reason);

        Watch(reader);
        Sys.Stop(reader);
        ExpectTerminated(reader);
        ReleaseBlockedRead(); // so that no thread outlives the test
    }

    /// <summary>Opens the FIFO for writing and closes it: the reader blocked in its open goes on.</summary>
    private void ReleaseBlockedRead() =>
        Assert.True(Task.Run(() => File.OpenHandle(ErrorBoundPath, FileMode.Open, FileAccess.Write).Dispose()).Wait(Patience),
            "no reader was waiting on the FIFO");

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
