using ClockBound.Actors;
using ClockBound.Io.Chrony;
using ClockBound.Io.Phc;
using ClockBound.Io.Segment;
using ClockBound.Io.VmClock;
using Serilog;

namespace ClockBound.Host.Daemon;

/// <summary>
/// Checks at start what would otherwise make an actor crash-loop: the VMClock device, the PHC files, the permission on
/// chronyd's socket, and the segment. Fails fast with a <see cref="StartupException"/> naming the culprit.
/// The input-only checks come first so that a start-up failure leaves the segment untouched where it can.
/// </summary>
internal static class Preflight
{
    /// <summary>What to do when the VMClock device cannot be used at start: said once, and only what fits the failure.</summary>
    internal static string VmClockAdvice(VmClockErrorKind kind, string path) => kind switch
    {
        VmClockErrorKind.Missing =>
            "on a host without VMClock run with --disable-clock-disruption-support; elsewhere give its path with --vmclock-path",
        VmClockErrorKind.PermissionDenied =>
            $"make it readable with 'chmod a+r {path}', or run with --disable-clock-disruption-support",
        _ => "check --vmclock-path, or run with --disable-clock-disruption-support",
    };

    /// <summary>errno of <see cref="SegmentWriter.Open"/> when another writer holds the segment's lock (EAGAIN on Linux).</summary>
    private const int EWOULDBLOCK = 11;

    /// <summary>Runs the checks; returns the segment, opened and locked (the segment writer actor takes it over).</summary>
    public static SegmentWriter Check(ClockBoundSettings settings, ILogger log)
    {
        if (settings.ClockDisruptionSupportEnabled)
        {
            try
            {
                using var vmclock = VmClockReader.Open(settings.VmClockPath);
                log.Information("VMClock {Path}: disruption marker {Marker}", settings.VmClockPath, vmclock.Read().DisruptionMarker);
            }
            catch (VmClockException e)
            {
                throw new StartupException($"{e.Message} ({VmClockAdvice(e.Kind, settings.VmClockPath)})", e);
            }
        }

        if (settings.PhcInterface is { } iface)
        {
            try
            {
                var phc = PhcErrorBoundReader.Resolve(iface, settings.SysfsRoot);
                log.Information("PHC of {Interface}: error bound {Bound} ns from {Path}", iface, phc.ReadErrorBoundNanoseconds(), phc.ErrorBoundPath);
            }
            catch (PhcException e)
            {
                throw new StartupException(e.Message, e);
            }
        }

        try
        {
            using var chrony = ChronyClient.Connect(settings.ChronySocketPath, settings.ChronyClientSocketDirectory, settings.ChronyTimeout);
        }
        catch (ChronyException e) when (e.Kind == ChronyErrorKind.PermissionDenied)
        {
            // The message already says what to do ("run as root or as chronyd's user"); add how.
            throw new StartupException($"{e.Message} (e.g. User=chrony in the unit)", e);
        }
        catch (ChronyException e)
        {
            // chronyd may start after us: the poller keeps trying, and the status stays Unknown meanwhile.
            log.Warning("chronyd is not reachable yet: {Reason}", e.Message);
        }

        try
        {
            return SegmentWriter.Open(settings.ShmPath);
        }
        catch (ClockBoundException e) when (e.Errno == EWOULDBLOCK)
        {
            // Another writer holds the segment's lock: say how to get out of it.
            throw new StartupException($"{e.Message} (stop that one first, or give this one another --shm-path)", e);
        }
        catch (ClockBoundException e)
        {
            throw new StartupException(e.Message, e);
        }
    }
}
