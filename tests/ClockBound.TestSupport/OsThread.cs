using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ClockBound.TestSupport;

/// <summary>
/// A thread as the kernel sees it (<c>/proc/&lt;pid&gt;/task/&lt;tid&gt;</c>): lets a test wait until another thread is
/// blocked in the kernel (so that waking it is really tested, not the fast path of a wait that has not begun), or until
/// the thread has exited.
/// </summary>
public sealed partial class OsThread
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(1);

    private OsThread(string path)
    {
        Path = path;
        var parts = path.Split('/'); // "", "proc", pid, "task", tid
        ProcessId = int.Parse(parts[2]);
        ThreadId = int.Parse(parts[4]);
    }

    /// <summary>The process's id.</summary>
    public int ProcessId { get; }

    /// <summary>The thread's kernel id (<c>gettid</c>).</summary>
    public int ThreadId { get; }

    /// <summary>The task directory, e.g. <c>/proc/1234/task/1240</c>.</summary>
    public string Path { get; }

    /// <summary>The calling thread (<c>/proc/thread-self</c> links to <c>&lt;pid&gt;/task/&lt;tid&gt;</c>).</summary>
    public static OsThread Current() =>
        new("/proc/" + (new FileInfo("/proc/thread-self").LinkTarget
                        ?? throw new InvalidOperationException("/proc/thread-self is not a symbolic link")));

    /// <summary>The state letter of <c>/proc/…/stat</c> (R running, S asleep in the kernel, …); null once the thread is gone.</summary>
    public char? State
    {
        get
        {
            string stat;
            try
            {
                stat = File.ReadAllText(System.IO.Path.Combine(Path, "stat"));
            }
            catch (IOException) // ENOENT or ESRCH: the thread has exited and been reaped
            {
                return null;
            }
            // "tid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
            return stat[stat.LastIndexOf(')') + 2];
        }
    }

    /// <summary>Polls until the thread sleeps in the kernel (state S); fails after <paramref name="timeout"/>.</summary>
    public void WaitUntilAsleep(TimeSpan timeout) => WaitUntil(() => State == 'S', timeout, "fall asleep in the kernel");

    /// <summary>Polls until the thread sleeps in the kernel (true) or <paramref name="finished"/> holds (false); fails after
    /// <paramref name="timeout"/>.</summary>
    public bool WaitUntilAsleepUnless(Func<bool> finished, TimeSpan timeout)
    {
        WaitUntil(() => finished() || State == 'S', timeout, "fall asleep in the kernel");
        return !finished();
    }

    /// <summary>Polls until the thread has exited (zombie, dead or reaped); fails after <paramref name="timeout"/>.</summary>
    public void WaitUntilExited(TimeSpan timeout) => WaitUntil(() => State is null or 'Z' or 'X', timeout, "exit");

    /// <summary>Sends <paramref name="signal"/> to this thread alone (<c>tgkill</c>).</summary>
    public void Signal(int signal)
    {
        if (Tgkill(ProcessId, ThreadId, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"tgkill({ProcessId}, {ThreadId}, {signal}): {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
        }
    }

    [LibraryImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    private static partial int Tgkill(int processId, int threadId, int signal);

    private void WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"thread {Path} did not {what} within {timeout} (state {State})");
            Thread.Sleep(PollInterval);
        }
    }
}
