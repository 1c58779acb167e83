using System.Diagnostics;

namespace ClockBound.Faults.Tests;

/// <summary>Facts about files and processes that .NET does not expose directly, and the non-root launcher.</summary>
internal static class Os
{
    /// <summary>Runs a program as <c>nobody:nogroup</c> without supplementary groups (util-linux setpriv execs it: same PID).</summary>
    public static readonly IReadOnlyList<string> AsNobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"];

    /// <summary>Fails the test (never skips it) when not root: starting a process as another user needs root, and CI runs as root.</summary>
    public static void RequireRoot(string why) =>
        Assert.True(Environment.IsPrivilegedProcess,
            $"this test must run as root (CI runs scripts/test.sh as root): {why}; running as {Environment.UserName}");

    /// <summary>The inode number of <paramref name="path"/> (<c>stat -c %i</c>).</summary>
    public static long Inode(string path) => long.Parse(Run("stat", "-c", "%i", path), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The socket inodes among the open descriptors of <paramref name="pid"/> (/proc/PID/fd links "socket:[N]").</summary>
    public static HashSet<long> SocketInodes(int pid)
    {
        var inodes = new HashSet<long>();
        foreach (var fd in System.IO.Directory.GetFiles($"/proc/{pid}/fd"))
        {
            string? target;
            try { target = new FileInfo(fd).LinkTarget; }
            catch (IOException) { continue; } // closed meanwhile
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                inodes.Add(long.Parse(target["socket:[".Length..^1], System.Globalization.CultureInfo.InvariantCulture));
        }
        return inodes;
    }

    /// <summary>The socket inodes of one /proc/PID/net table (tcp, udp6, unix, ...) with the rest of each line.</summary>
    public static Dictionary<long, string> NetTable(int pid, string table)
    {
        var lines = File.ReadAllLines($"/proc/{pid}/net/{table}").Skip(1);
        // unix: "Num RefCount Protocol Flags Type St Inode Path"; inet: inode is the 10th field.
        int inodeField = table == "unix" ? 6 : 9;
        var result = new Dictionary<long, string>();
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > inodeField && long.TryParse(fields[inodeField], out long inode) && inode != 0)
                result.TryAdd(inode, line.Trim());
        }
        return result;
    }

    private static string Run(string program, params string[] arguments)
    {
        var psi = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)) || process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {error}");
        return output.Trim();
    }
}
