using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace ClockBound.Benchmarks;

public static class Program
{
    public static void Main(string[] args)
    {
        if (args is ["quick"])
        {
            Quick.Run();
            return;
        }
        if (args is ["alloc", ..])
        {
            PollAllocations.Run(args);
            return;
        }
        // Short runs: a handful of iterations is plenty for a ~50 ns operation, and keeps the whole run to a few
        // minutes on a 2-core machine.
        var job = Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(5)
            .WithIterationCount(15)
            .WithId("short");
        var config = DefaultConfig.Instance.AddJob(job)
            .AddColumn(StatisticColumn.Median) // the budget is on the median
            .WithOptions(ConfigOptions.JoinSummary);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
