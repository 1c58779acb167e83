using System.Globalization;
using System.Security;
using System.Text;

namespace ClockBound.Soak;

/// <summary>The soak's one table, and its result as a trx file for scripts/test.sh.</summary>
internal static class Report
{
    public static string Table(Soak soak, int minutes, int seed, TimeSpan warmUp, TimeSpan took)
    {
        var t = new StringBuilder();
        void Row(string what, string value) => t.AppendLine(CultureInfo.InvariantCulture, $"| {what} | {value} |");
        t.AppendLine(CultureInfo.InvariantCulture, $"Soak of {minutes} min (took {took.TotalMinutes:0.0}), seed {seed}, {soak.DaemonRuns} daemon runs");
        t.AppendLine();
        t.AppendLine("| what | value |");
        t.AppendLine("|---|---|");
        foreach (var (cls, count) in soak.Injected) Row($"faults: {cls}", $"{count}");
        Row("faults in all", $"{soak.Injected.Values.Sum()}");
        Row("invariant violations (must be 0)", $"{soak.Violations.Count}");
        Row("records checked / status transitions checked", $"{soak.RecordsChecked} / {soak.TransitionsChecked}");
        var r = soak.ReaderTotals;
        Row($"reads checked ({r.Processes} reader processes in all, 4 at a time)", $"{r.Reads:N0}");
        Row("reads torn / failed (must be 0)", $"{r.Torn} / {r.Failed}");
        var windows = soak.Resources.Windows();
        var g = soak.Resources.GrowthPerHour();
        string basis = $"per daemon run, from its first sample ≥ {warmUp.TotalMinutes:0} min to its last";
        if (g is { } growth)
        {
            string Span(Func<ResourceSample, long> f) => string.Join(", ", windows.Select(w => $"{f(w.From)} → {f(w.To)}"));
            Row($"RSS growth ({basis})", $"{growth.RssKb / 1024:+0.00;-0.00;0} MB/hour (kB: {Span(s => s.RssKb)})");
            var kinds = growth.RssKinds;
            Row("RSS growth by kind: anonymous (C heap, GC heap, stacks) / runtime code (JIT, stubs) / files",
                $"{kinds.AnonymousKb / 1024.0:+0.00;-0.00;0} / {kinds.CodeKb / 1024.0:+0.00;-0.00;0} / {kinds.FilesKb / 1024.0:+0.00;-0.00;0} MB/hour " +
                $"(kB: {Span(s => s.Rss.AnonymousKb)} / {Span(s => s.Rss.CodeKb)} / {Span(s => s.Rss.FilesKb)})");
            Row("Private_Dirty growth", $"{growth.PrivateDirtyKb / 1024:+0.00;-0.00;0} MB/hour (kB: {Span(s => s.PrivateDirtyKb)})");
            Row("open fds growth", $"{growth.Fds:+0.0;-0.0;0} per hour ({Span(s => s.Fds)})");
            Row("threads growth", $"{growth.Threads:+0.0;-0.0;0} per hour ({Span(s => s.Threads)})");
            Row("GC heap growth (dotnet_total_memory_bytes: live objects plus garbage since the last collection)",
                growth.GcHeapKb is { } gc ? $"{gc / 1024:+0.00;-0.00;0} MB/hour (kB: {Span(s => s.GcHeapKb ?? -1)})" : "not scraped");
            Row("measured", $"{windows.Count} runs, {growth.Measured.TotalMinutes:0.0} min in all");
        }
        else
        {
            Row("leak figures", $"no daemon run lasted long enough for two samples after its warm-up ({soak.Resources.Samples.Count} samples)");
        }
        return t.ToString();
    }

    /// <summary>A trx holding one test, enough for scripts/test.sh (it reads the Counters element) and for trx viewers.</summary>
    public static void WriteTrx(string path, string name, bool passed, DateTime start, DateTime end, string table, IReadOnlyList<string> problems)
    {
        string Xml(string s) => SecurityElement.Escape(s);
        string outcome = passed ? "Passed" : "Failed";
        string testId = Guid.NewGuid().ToString(), executionId = Guid.NewGuid().ToString();
        string duration = (end - start).ToString(@"hh\:mm\:ss\.fffffff", CultureInfo.InvariantCulture);
        string error = passed ? "" : $"<ErrorInfo><Message>{Xml(string.Join('\n', problems))}</Message></ErrorInfo>";
        string trx = $"""
            <?xml version="1.0" encoding="utf-8"?>
            <TestRun id="{Guid.NewGuid()}" name="{Xml(name)}" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
              <Times creation="{start:O}" start="{start:O}" finish="{end:O}" />
              <Results>
                <UnitTestResult executionId="{executionId}" testId="{testId}" testName="{Xml(name)}" duration="{duration}" startTime="{start:O}" endTime="{end:O}" outcome="{outcome}" testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d">
                  <Output><StdOut>{Xml(table)}</StdOut>{error}</Output>
                </UnitTestResult>
              </Results>
              <TestDefinitions>
                <UnitTest name="{Xml(name)}" id="{testId}"><Execution id="{executionId}" /><TestMethod codeBase="ClockBound.Soak.dll" className="ClockBound.Soak" name="{Xml(name)}" /></UnitTest>
              </TestDefinitions>
              <ResultSummary outcome="{(passed ? "Completed" : "Failed")}">
                <Counters total="1" executed="1" passed="{(passed ? 1 : 0)}" failed="{(passed ? 0 : 1)}" error="0" timeout="0" aborted="0" inconclusive="0" passedButRunAborted="0" notRunnable="0" notExecuted="0" disconnected="0" warning="0" completed="0" inProgress="0" pending="0" />
              </ResultSummary>
            </TestRun>
            """;
        File.WriteAllText(path, trx);
    }
}
