using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Diagnostics;
using ClockBound.Client;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Cli;

/// <summary>
/// <c>clockbound waitsync [--timeout SECONDS] [--max-bound NANOSECONDS]</c>: blocks until the status is Synchronized (and the
/// bound at most the maximum). Exit 0 synchronised, 1 timed out, 2 fatal (bad segment, bad option).
/// For <c>ExecStartPre=</c> of services that need good time, which at boot may run before the daemon has created the
/// segment: a segment that does not exist yet, or that a starting daemon has created but not written yet, is waited for
/// like an unsynchronised one.
/// </summary>
internal static class WaitsyncCommand
{
    public const int TimedOut = 1;

    /// <summary>The daemon publishes every 100 ms; checking as often costs nothing and adds no latency.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(100);

    public static Command Create()
    {
        var timeout = new Option<double?>("--timeout")
        {
            Description = "Give up after this many seconds (exit 1); default: wait indefinitely",
            HelpName = "SECONDS",
            CustomParser = r => Parse<double>(r, "--timeout", "a positive number of seconds",
                token => double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && t > 0 && t < TimeSpan.MaxValue.TotalSeconds ? t : (double?)null),
        };
        var maxBound = new Option<long?>("--max-bound")
        {
            Description = "Also wait until the bound is at most this many nanoseconds",
            HelpName = "NANOSECONDS",
            CustomParser = r => Parse<long>(r, "--max-bound", "a positive integer number of nanoseconds",
                token => long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out long b) && b > 0 ? b : (long?)null),
        };
        var command = new Command("waitsync", "Wait until the clock is synchronised (exit 0), or time out (exit 1); 2 on a fatal error") { timeout, maxBound };
        command.SetAction((parse, cancellationToken) =>
            RunAsync(parse, parse.GetValue(timeout), parse.GetValue(maxBound), cancellationToken));
        return command;
    }

    /// <summary>Parses the option's value with <paramref name="parse"/>; a value it rejects is a one-line usage error.</summary>
    private static T? Parse<T>(ArgumentResult result, string option, string expected, Func<string, T?> parse) where T : struct
    {
        string token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (parse(token) is { } value) return value;
        result.AddError($"{option}: must be {expected}, got '{token}'");
        return null;
    }

    private static async Task<int> RunAsync(ParseResult parse, double? timeoutSeconds, long? maxBound, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var elapsed = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(CheckInterval);
        string shmPath = CommonOptions.ShmPathOf(parse);
        ClockBoundTime last = default;
        try
        {
            ClockBoundClient? client = null;
            try
            {
                while (true)
                {
                    client ??= TryOpen(shmPath, CommonOptions.VmClockPathOf(parse));
                    if (client is not null)
                    {
                        last = client.Now();
                        if (last.Status == ClockStatus.Synchronized && (maxBound is null || last.BoundNanoseconds <= maxBound))
                        {
                            await output.WriteLineAsync($"synchronized: bound {last.BoundNanoseconds} ns after {elapsed.Elapsed.TotalSeconds:F1} s");
                            return ExitCodes.Success;
                        }
                    }
                    if (timeoutSeconds is { } t && elapsed.Elapsed.TotalSeconds >= t)
                        break;
                    await timer.WaitForNextTickAsync(cancellationToken);
                }
            }
            finally
            {
                client?.Dispose();
            }
        }
        catch (ClockBoundException e)
        {
            await error.WriteLineAsync(ToolErrors.Line("waitsync", parse, e));
            return ExitCodes.InvalidInput;
        }
        string state = NotYetWritten(shmPath) is { } why
            ? $"segment {shmPath} {why}"
            : $"status {last.Status}, bound {last.BoundNanoseconds} ns";
        await error.WriteLineAsync($"clockbound waitsync: timed out after {timeoutSeconds} s: {state}");
        return TimedOut;
    }

    /// <summary>The client of the segment, or null while the segment is not there yet (see <see cref="NotYetWritten"/>).
    /// Any other problem of the segment throws.</summary>
    private static ClockBoundClient? TryOpen(string shmPath, string vmClockPath)
    {
        try
        {
            return ClockBoundClient.Open(shmPath, vmClockPath);
        }
        catch (ClockBoundException e) when (e.Kind == ClockBoundErrorKind.SegmentNotInitialized && NotYetWritten(shmPath) is not null)
        {
            return null;
        }
    }

    /// <summary>Why the segment is not there yet: "does not exist" (no daemon has created it: at boot, waitsync may run
    /// first), "is not written yet" (a starting daemon creates it with the right magic, then sets the layout version and
    /// writes the first record); null when it is there, or is not a segment at all (bad magic, too short: a bad segment).</summary>
    private static string? NotYetWritten(string shmPath)
    {
        Span<byte> header = stackalloc byte[SegmentHeader.Size];
        try
        {
            using var file = File.OpenHandle(shmPath);
            if (RandomAccess.Read(file, header, 0) < SegmentHeader.Size) return null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return "does not exist";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // not waited for: opening it through the client says what is wrong
        }
        var fields = SegmentHeader.ReadFrom(header);
        return fields.Magic == SegmentHeader.ExpectedMagic && (fields.Version == 0 || fields.Generation == 0) ? "is not written yet" : null;
    }
}
