using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ClockBound.Client;
using ClockBound.Io;
using ClockBound.Io.Segment;

namespace ClockBound.Host.Cli;

/// <summary><c>clockbound status [--json]</c>: everything in the segment plus the bound computed for now.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var watch = new Option<bool>("--watch") { Description = "Refresh every second: status, bound, drift, as_of age and a sparkline of the bound (plain lines when not on a terminal)" };
        var count = new Option<int?>("--count") { Description = "With --watch: stop after N refreshes", HelpName = "N" };
        count.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is { } n && n <= 0) r.AddError($"--count: must be a positive number of refreshes, got {n}");
        });
        var command = new Command("status", "Print everything in the segment, and the bound computed for now") { json, watch, count };
        // Refused rather than ignored: --watch prints its own lines (no JSON), and --count counts refreshes of --watch.
        command.Validators.Add(r =>
        {
            bool watching = r.GetValue(watch);
            if (watching && r.GetValue(json))
                r.AddError("--json: not with --watch, which prints one plain line per refresh (run status --json for each sample)");
            else if (!watching && r.GetResult(count) is not null)
                r.AddError("--count: only with --watch (it counts the refreshes)");
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            if (!parse.GetValue(watch))
                return Task.FromResult(Once(parse, parse.GetValue(json)));
            bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            return new StatusWatch(CommonOptions.ShmPathOf(parse), CommonOptions.VmClockPathOf(parse), output, terminal)
                .RunAsync(parse.GetValue(count), cancellationToken);
        });
        return command;
    }

    private static int Once(ParseResult parse, bool json) =>
        ToolErrors.Run("status", parse, () =>
        {
            string shmPath = CommonOptions.ShmPathOf(parse);
            // The client validates the segment (reporting the reference error kinds) before anything is read raw.
            using var client = ClockBoundClient.Open(shmPath, CommonOptions.VmClockPathOf(parse));
            using var reader = SegmentReader.Open(shmPath);
            ClockErrorBound record = reader.Snapshot();
            SegmentHeader header = ReadHeader(shmPath);
            ClockBoundTime now = client.Now();
            Timespec monotonic = Clocks.MonotonicCoarse();
            var report = new Report(shmPath, header, record, now, monotonic);
            var output = parse.InvocationConfiguration.Output;
            if (json) report.WriteJson(output);
            else report.WriteText(output);
            return ExitCodes.Success;
        });

    /// <summary>The 16-byte header as stored now (the generation may be odd if the writer is mid-update).</summary>
    private static SegmentHeader ReadHeader(string path)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> bytes = stackalloc byte[SegmentHeader.Size];
        int length = RandomAccess.Read(file, bytes, fileOffset: 0);
        if (length < SegmentHeader.Size)
            throw new ClockBoundException(ClockBoundErrorKind.SegmentNotInitialized, path,
                $"clock error bound segment {path}: {length} bytes, shorter than the {SegmentHeader.Size}-byte header");
        return SegmentHeader.ReadFrom(bytes);
    }

    private sealed record Report(string Path, SegmentHeader Header, ClockErrorBound Record, ClockBoundTime Now, Timespec Monotonic)
    {
        /// <summary>How long ago the bound was computed (negative: as_of is ahead of this host's coarse clock).</summary>
        private double AsOfAgeSeconds => Monotonic.NanosecondsSince(Record.AsOf) / 1e9;

        /// <summary>How long the record stays valid (negative: void_after has passed).</summary>
        private double VoidInSeconds => Record.VoidAfter.NanosecondsSince(Monotonic) / 1e9;

        public void WriteText(TextWriter output)
        {
            string F(double seconds) => seconds.ToString("F3", CultureInfo.InvariantCulture);
            output.WriteLine($"segment:             {Path}");
            output.WriteLine($"layout version:      {Header.Version}");
            output.WriteLine($"segment size:        {Header.SegmentSize} bytes");
            output.WriteLine($"generation:          {Header.Generation}");
            output.WriteLine($"as_of:               {Record.AsOf} s (CLOCK_MONOTONIC_COARSE), {F(AsOfAgeSeconds)} s ago");
            output.WriteLine($"void_after:          {Record.VoidAfter} s (CLOCK_MONOTONIC_COARSE), in {F(VoidInSeconds)} s");
            output.WriteLine($"bound at as_of:      {Record.BoundNanoseconds} ns");
            output.WriteLine($"max drift:           {Record.MaxDriftPpb} ppb");
            output.WriteLine($"disruption marker:   {Record.DisruptionMarker}");
            output.WriteLine($"disruption support:  {(Record.ClockDisruptionSupportEnabled ? "enabled" : "disabled")}");
            output.WriteLine($"stored status:       {Record.Status}");
            output.WriteLine($"status now:          {Now.Status}");
            output.WriteLine($"bound now:           {Now.BoundNanoseconds} ns");
            output.WriteLine($"earliest:            {Now.Earliest:yyyy-MM-ddTHH:mm:ss.fffffffZ} ({Now.EarliestNanoseconds} ns)");
            output.WriteLine($"latest:              {Now.Latest:yyyy-MM-ddTHH:mm:ss.fffffffZ} ({Now.LatestNanoseconds} ns)");
        }

        public void WriteJson(TextWriter output)
        {
            using var stream = new MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("segment", Path);
                writer.WriteNumber("version", Header.Version);
                writer.WriteNumber("segment_size", Header.SegmentSize);
                writer.WriteNumber("generation", Header.Generation);
                WriteTimespec(writer, "as_of", Record.AsOf);
                writer.WriteNumber("as_of_age_seconds", AsOfAgeSeconds);
                WriteTimespec(writer, "void_after", Record.VoidAfter);
                writer.WriteNumber("void_in_seconds", VoidInSeconds);
                writer.WriteNumber("bound_ns", Record.BoundNanoseconds);
                writer.WriteNumber("max_drift_ppb", Record.MaxDriftPpb);
                writer.WriteNumber("disruption_marker", Record.DisruptionMarker);
                writer.WriteBoolean("clock_disruption_support_enabled", Record.ClockDisruptionSupportEnabled);
                writer.WriteString("stored_status", Record.Status.ToString());
                writer.WriteStartObject("now");
                writer.WriteString("status", Now.Status.ToString());
                writer.WriteNumber("bound_ns", Now.BoundNanoseconds);
                writer.WriteNumber("earliest_ns", Now.EarliestNanoseconds);
                writer.WriteNumber("latest_ns", Now.LatestNanoseconds);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
        }

        private static void WriteTimespec(Utf8JsonWriter writer, string name, Timespec value)
        {
            writer.WriteStartObject(name);
            writer.WriteNumber("sec", value.Seconds);
            writer.WriteNumber("nsec", value.Nanoseconds);
            writer.WriteEndObject();
        }
    }
}
