using System.Globalization;
using ClockBound.ReaderProcess;

// A separate process reading (or writing) the segment, for the end-to-end fault and load tests. The last line printed is
// the summary (ReaderSummary.LinePrefix + JSON); exit 0 when every operation succeeded and every read was consistent.

const string Usage = """
    usage: ClockBound.ReaderProcess read  SHM VMCLOCK SECONDS MAX_READS [--stop-on-stdin]
             ClockBoundClient.Now() in a loop, every answer checked (the client's status, interval, raw record)
           ClockBound.ReaderProcess check SHM SECONDS MAX_READS [--stop-on-stdin] [--go-on-stdin]
             SegmentReader snapshots of the records written by 'write', each checked to be exactly one record
           ClockBound.ReaderProcess write SHM SECONDS [--go-on-stdin]
             SegmentWriter: records derived from a counter 1, 2, 3, ... as fast as possible
    MAX_READS 0 means no limit. --stop-on-stdin also stops at a line "stop" or the end of standard input.
    --go-on-stdin: write record 1, print "ready", then wait for a line "go" before writing on for SECONDS.
    Exit code: 0 no error and no inconsistent read, 1 otherwise, 2 bad usage.
    """;

try
{
    bool stopOnStdin = args.Contains("--stop-on-stdin");
    bool goOnStdin = args.Contains("--go-on-stdin");
    string[] a = [.. args.Where(x => x is not ("--stop-on-stdin" or "--go-on-stdin"))];
    ReaderSummary summary = a switch
    {
        ["read", var shm, var vmclock, var seconds, var maxReads] => Modes.Read(shm, vmclock, new RunLimit(Seconds(seconds), Count(maxReads), stopOnStdin)),
        ["check", var shm, var seconds, var maxReads] => Modes.Check(shm, new RunLimit(Seconds(seconds), Count(maxReads), stopOnStdin, goOnStdin)),
        ["write", var shm, var seconds] => Modes.Write(shm, Seconds(seconds), goOnStdin),
        _ => throw new FormatException("unknown mode or wrong number of arguments"),
    };
    Console.WriteLine(summary.ToLine());
    return summary.Clean ? 0 : 1;
}
catch (FormatException e)
{
    Console.Error.WriteLine($"{e.Message}\n{Usage}");
    return 2;
}

static double Seconds(string text) =>
    double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s > 0
        ? s
        : throw new FormatException($"SECONDS: '{text}' is not a positive number");

static long Count(string text) =>
    long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
        ? n
        : throw new FormatException($"MAX_READS: '{text}' is not a non-negative integer");
