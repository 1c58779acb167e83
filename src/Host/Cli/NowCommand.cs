using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using ClockBound.Client;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Cli;

/// <summary><c>clockbound now [--json] [--bench N]</c>: the bounded time once, or the cost of <see cref="ClockBoundClient.Now"/>.</summary>
internal static class NowCommand
{
    /// <summary>Batches timed by --bench; the median of 5 is robust to one disturbed batch.</summary>
    private const int BenchBatches = 5;

    public static Command Create()
    {
        var json = CommonOptions.Json();
        var bench = new Option<int?>("--bench") { Description = "Time N consecutive Now() calls in 5 batches after a warm-up; prints median_ns_per_call=X last", HelpName = "N" };
        var command = new Command("now", "Print earliest, latest, bound and status once") { json, bench };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            return ToolErrors.Run("now", parse, () =>
            {
                using var client = ClockBoundClient.Open(CommonOptions.ShmPathOf(parse), CommonOptions.VmClockPathOf(parse));
                if (parse.GetValue(bench) is { } n)
                    return Bench(client, n, output);
                Print(client.Now(), parse.GetValue(json), output);
                return ExitCodes.Success;
            });
        });
        return command;
    }

    private static void Print(ClockBoundTime now, bool json, TextWriter output)
    {
        if (!json)
        {
            output.WriteLine($"earliest: {now.Earliest:yyyy-MM-ddTHH:mm:ss.fffffffZ} ({now.EarliestNanoseconds} ns)");
            output.WriteLine($"latest:   {now.Latest:yyyy-MM-ddTHH:mm:ss.fffffffZ} ({now.LatestNanoseconds} ns)");
            output.WriteLine($"bound:    {now.BoundNanoseconds} ns");
            output.WriteLine($"status:   {now.Status}");
            return;
        }
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteNumber("earliest_ns", now.EarliestNanoseconds);
            writer.WriteNumber("latest_ns", now.LatestNanoseconds);
            writer.WriteNumber("bound_ns", now.BoundNanoseconds);
            writer.WriteString("status", now.Status.ToString());
            writer.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static int Bench(ClockBoundClient client, int calls, TextWriter output)
    {
        if (calls <= 0) throw new ArgumentOutOfRangeException(nameof(calls), "--bench N must be positive");
        // Warm-up: let the JIT tier up the whole path.
        for (int i = 0; i < Math.Max(calls, 200_000); i++) client.Now();
        var perCall = new double[BenchBatches];
        for (int batch = 0; batch < BenchBatches; batch++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++) client.Now();
            perCall[batch] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
            output.WriteLine($"batch {batch + 1}: {perCall[batch]:F1} ns/call");
        }
        Array.Sort(perCall);
        output.WriteLine($"median_ns_per_call={perCall[BenchBatches / 2]:F1}");
        return ExitCodes.Success;
    }
}
