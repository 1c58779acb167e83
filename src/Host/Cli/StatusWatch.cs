using System.Globalization;
using ClockBound.Client;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Cli;

/// <summary>
/// <c>clockbound status --watch</c>: refreshes every second. On a terminal: a screen with status, bound, drift, as_of age
/// and a sparkline of the bound over the last minutes; otherwise (a pipe, a file, a log) one plain line per refresh.
/// A missing or broken segment is shown and watched on, so the view survives a daemon restart.
/// </summary>
internal sealed class StatusWatch(string shmPath, string vmClockPath, TextWriter output, bool terminal)
{
    /// <summary>Five minutes of one-second samples.</summary>
    private const int History = 300;
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(1);

    private readonly List<long> _bounds = [];
    private ClockBoundClient? _client;

    public async Task<int> RunAsync(int? count, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Refresh);
        try
        {
            for (int n = 0; count is null || n < count; n++)
            {
                if (n > 0 && !await timer.WaitForNextTickAsync(cancellationToken)) break;
                Render();
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _client?.Dispose();
        }
        return ExitCodes.Success;
    }

    private void Render()
    {
        string time = DateTimeOffset.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        ClockBoundTime now;
        ClockErrorBound record;
        try
        {
            _client ??= ClockBoundClient.Open(shmPath, vmClockPath);
            using var reader = SegmentReader.Open(shmPath);
            record = reader.Snapshot();
            now = _client.Now();
        }
        catch (ClockBoundException e)
        {
            _client?.Dispose();
            _client = null;
            output.WriteLine(terminal ? $"\u001b[H\u001b[2J{time}  {e.Kind}: {e.Message}" : $"{time} error={e.Kind} message=\"{e.Message}\"");
            return;
        }

        _bounds.Add(now.BoundNanoseconds);
        if (_bounds.Count > History) _bounds.RemoveAt(0);
        double ageSeconds = Clocks.MonotonicCoarse().NanosecondsSince(record.AsOf) / 1e9;
        string age = ageSeconds.ToString("F3", CultureInfo.InvariantCulture);
        if (!terminal)
        {
            output.WriteLine($"{time} status={now.Status} bound_ns={now.BoundNanoseconds} max_drift_ppb={record.MaxDriftPpb} as_of_age_s={age} marker={record.DisruptionMarker}");
            return;
        }
        int width = Math.Clamp(SafeWindowWidth() - 2, 10, History);
        output.Write("\u001b[H\u001b[2J");
        output.WriteLine($"clockbound status --watch   {shmPath}   {time} UTC   (Ctrl-C to quit)");
        output.WriteLine();
        output.WriteLine($"  status      {now.Status}");
        output.WriteLine($"  bound       {now.BoundNanoseconds.ToString("N0", CultureInfo.InvariantCulture)} ns");
        output.WriteLine($"  max drift   {record.MaxDriftPpb.ToString("N0", CultureInfo.InvariantCulture)} ppb");
        output.WriteLine($"  as_of age   {age} s");
        output.WriteLine($"  marker      {record.DisruptionMarker}");
        output.WriteLine();
        output.WriteLine($"  bound, last {_bounds.Count} s (min {_bounds.Min():N0} ns, max {_bounds.Max():N0} ns):");
        output.WriteLine("  " + Sparkline.Render(_bounds, width));
        output.Flush();
    }

    private static int SafeWindowWidth()
    {
        try { return Console.WindowWidth; }
        catch (IOException) { return 80; }
    }
}
