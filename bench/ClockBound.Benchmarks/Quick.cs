using System.Diagnostics;

namespace ClockBound.Benchmarks;

/// <summary>`quick`: a Stopwatch loop per benchmark, interleaved and repeated, for a fast look while changing code
/// (seconds instead of minutes; less rigorous than BenchmarkDotNet).</summary>
internal static class Quick
{
    public static void Run()
    {
        var now = new NowBenchmarks { Disruption = Disruption.Off };
        var nowMemfd = new NowBenchmarks { Disruption = Disruption.OnSealedMemfd };
        var parts = new ComponentBenchmarks();
        now.Setup();
        nowMemfd.Setup();
        parts.Setup();
        var cases = new (string Name, Func<long> Body)[]
        {
            ("two clock reads", () => parts.TwoClockReads()),
            ("Snapshot", () => parts.Snapshot().BoundNanoseconds),
            ("StatusAndBound", () => parts.StatusAndBound()),
            ("VmClock marker", () => (long)parts.VmClockMarker()),
            ("Now() off", () => now.Now().BoundNanoseconds),
            ("Now() sealed memfd", () => nowMemfd.Now().BoundNanoseconds),
        };
        var results = cases.Select(_ => new List<double>()).ToArray();
        const int Calls = 2_000_000;
        for (int round = 0; round < 7; round++)
        {
            for (int c = 0; c < cases.Length; c++)
            {
                var body = cases[c].Body;
                long sink = 0;
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < Calls; i++) sink += body();
                double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / Calls;
                if (round > 1) results[c].Add(ns); // two warm-up rounds
                GC.KeepAlive(sink);
            }
        }
        for (int c = 0; c < cases.Length; c++)
        {
            var sorted = results[c].Order().ToArray();
            Console.WriteLine($"{cases[c].Name,-22} median {sorted[sorted.Length / 2],7:F1} ns  (min {sorted[0]:F1}; includes ~1-2 ns of delegate call)");
        }
        now.Cleanup();
        nowMemfd.Cleanup();
        parts.Cleanup();
    }
}
