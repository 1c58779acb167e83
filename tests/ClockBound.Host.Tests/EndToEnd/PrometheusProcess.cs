using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ClockBound.TestSupport;

namespace ClockBound.Host.Tests.EndToEnd;

/// <summary>A real <c>prometheus</c> (Debian's package, scripts/setup.sh) as a child process: its own configuration and
/// TSDB under a temporary directory, its web API on 127.0.0.1 only, its output kept for failure messages. Disposing
/// kills it by its PID and removes the directory. The distribution's prometheus.service is never involved.</summary>
internal sealed class PrometheusProcess : IDisposable
{
    /// <summary>Its start (TSDB creation, rule loading) takes about a second; the margin is for a loaded machine.</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly TempDirectory _dir;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private PrometheusProcess(Process process, TempDirectory dir, int port)
    {
        _process = process;
        _dir = dir;
        BaseAddress = $"http://127.0.0.1:{port}";
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _lines.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string BaseAddress { get; }

    public string OutputText => string.Join('\n', _lines);

    /// <summary>Writes <paramref name="config"/> (prometheus.yml) and <paramref name="files"/> (name → text, e.g. its rule
    /// files, named relative to the configuration) into a new directory, starts prometheus on it and waits until it is ready.</summary>
    public static async Task<PrometheusProcess> StartAsync(string config, IReadOnlyDictionary<string, string> files)
    {
        var dir = new TempDirectory("cb-prom");
        File.WriteAllText(dir.Combine("prometheus.yml"), config);
        foreach (var (name, text) in files) File.WriteAllText(dir.Combine(name), text);
        int port = LocalPorts.FreeTcp();
        var psi = new ProcessStartInfo("prometheus")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir.Path,
        };
        foreach (var argument in (string[])[$"--config.file={dir.Combine("prometheus.yml")}", $"--storage.tsdb.path={dir.Combine("data")}",
                     $"--web.listen-address=127.0.0.1:{port}"])
            psi.ArgumentList.Add(argument);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("prometheus did not start");
        var prometheus = new PrometheusProcess(process, dir, port);
        try
        {
            await prometheus.WaitUntilAsync(async () =>
            {
                try { return (await prometheus._http.GetAsync($"{prometheus.BaseAddress}/-/ready")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, ReadyTimeout, "prometheus ready");
        }
        catch
        {
            prometheus.Dispose();
            throw;
        }
        return prometheus;
    }

    /// <summary>GET /api/v1/PATH; fails with prometheus's output unless the API answers status "success".</summary>
    public async Task<JsonElement> ApiAsync(string pathAndQuery)
    {
        string body = await _http.GetStringAsync($"{BaseAddress}/api/v1/{pathAndQuery}");
        var root = JsonDocument.Parse(body).RootElement;
        Assert.True(root.GetProperty("status").GetString() == "success", $"{pathAndQuery}: {body}\nprometheus output:\n{OutputText}");
        return root.GetProperty("data");
    }

    /// <summary>An instant or range-selector query (/api/v1/query): its result array.</summary>
    public async Task<JsonElement> QueryAsync(string promql) =>
        (await ApiAsync($"query?query={Uri.EscapeDataString(promql)}")).GetProperty("result");

    /// <summary>Polls <paramref name="condition"/> until it holds; on time-out fails with <paramref name="what"/> and
    /// prometheus's output.</summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"{what}: not within {timeout}. prometheus output:\n{OutputText}");
            if (_process.HasExited)
                throw new InvalidOperationException($"{what}: prometheus exited with {_process.ExitCode}. Output:\n{OutputText}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);   // by its PID: our child only
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
        _http.Dispose();
        _dir.Dispose();
    }
}
