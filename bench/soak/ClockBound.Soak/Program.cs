using System.Globalization;
using System.Runtime.InteropServices;
using ClockBound.Soak;

// bench/soak/run.sh --minutes N [--seed S] [--min-run M] [--trx FILE]: the published daemon under a seeded random fault
// campaign for N minutes; prints one table and exits 1 on any invariant violation, torn or failed read. --min-run: no
// daemon restart (kill, corrupted segment) is planned before the current daemon has run M minutes (default: a third of
// the soak, at most 20), for long leak windows. With --trx it also writes the result as a one-test trx file, which
// scripts/test.sh counts with the test projects' results.

const string Usage = "usage: ClockBound.Soak --minutes N [--seed S] [--min-run M] [--trx FILE]   (run it through bench/soak/run.sh)";

int minutes = 0, seed = 1, minRunMinutes = 0;
string? trx = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--minutes" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out minutes) && minutes > 0: i++; break;
        case "--seed" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out seed): i++; break;
        case "--min-run" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out minRunMinutes) && minRunMinutes > 0: i++; break;
        case "--trx" when i + 1 < args.Length: trx = args[++i]; break;
        default: Console.Error.WriteLine(Usage); return 2;
    }
}
if (minutes == 0) { Console.Error.WriteLine(Usage); return 2; }

var duration = TimeSpan.FromMinutes(minutes);
var minRun = minRunMinutes > 0 ? TimeSpan.FromMinutes(minRunMinutes) : Schedule.MinRunBeforeRestart(duration);
// The issue measures growth from minute 5 of a run; runs shorter than 10 minutes (soaks shorter than 30) are measured
// from their first sample after one minute instead.
var warmUp = minRun >= TimeSpan.FromMinutes(10) ? TimeSpan.FromMinutes(5) : TimeSpan.FromMinutes(1);
var plan = Schedule.Plan(seed, duration, minRun);

using var cancel = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancel.Cancel(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });

Console.WriteLine($"soak: {minutes} min, seed {seed}, daemon restarts at most every {minRun.TotalMinutes:0.#} min, " +
                  $"leak windows from {warmUp.TotalMinutes:0} min into each daemon run");
var started = DateTime.UtcNow;
string? crash = null;
var soak = new Soak(warmUp);
try
{
    await soak.RunAsync(plan, duration, cancel.Token);
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    crash = "interrupted";
}
catch (Exception e)
{
    crash = e.ToString();
}
finally
{
    await soak.DisposeAsync();
}

var table = Report.Table(soak, minutes, seed, warmUp, DateTime.UtcNow - started);
Console.WriteLine();
Console.WriteLine(table);
var problems = new List<string>();
if (crash is not null) problems.Add($"the soak did not complete: {crash}");
problems.AddRange(soak.Violations);
problems.AddRange(soak.ReaderTotals.Problems);
if (soak.ReaderTotals.Processes == 0) problems.Add("no reader process reported");
foreach (var problem in problems) Console.WriteLine($"FAIL {problem}");
bool passed = problems.Count == 0;
Console.WriteLine(passed ? "soak passed" : $"soak FAILED ({problems.Count} problems)");
if (trx is not null) Report.WriteTrx(trx, $"soak {minutes} min seed {seed}", passed, started, DateTime.UtcNow, table, problems);
return passed ? 0 : 1;
