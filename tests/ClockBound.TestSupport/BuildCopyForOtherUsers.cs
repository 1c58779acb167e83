namespace ClockBound.TestSupport;

/// <summary>
/// The test assembly's directory (the daemon, the reader program and everything they load) copied once per test run into a
/// world-readable temporary directory, for processes started as another user (nobody). That user could not run them from
/// where they were built when the checkout lies under a directory it may not traverse (root's home is 0700, as is any
/// <c>mktemp -d</c> directory): the apphost fails to resolve its own path, <c>dotnet X.dll</c> gets "Permission denied".
/// The copy is removed when the test process exits, however it exits (see <see cref="RemoveWhenThisProcessEnds"/>).
/// </summary>
public static class BuildCopyForOtherUsers
{
    /// <summary>rwxr-xr-x: every user may list and traverse the copy's directories.</summary>
    private const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101;

    /// <summary>r--r--r--: every user may read every copied file.</summary>
    private const UnixFileMode ReadableByAll = (UnixFileMode)0b100_100_100;

    /// <summary>--x--x--x: given to every user for a file its owner may execute (the apphost).</summary>
    private const UnixFileMode ExecutableByAll = (UnixFileMode)0b001_001_001;

    private static readonly Lazy<string> Copy = new(Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The remover, with the write end of its standard input: held (never written) for the life of this process.</summary>
    private static System.Diagnostics.Process? Remover { get; set; }

    /// <summary>The copy's directory, made at the first use.</summary>
    public static string Directory => Copy.Value;

    /// <summary>The path in the copy of <paramref name="fileName"/> from the test assembly's directory.</summary>
    public static string PathOf(string fileName) => Path.Combine(Directory, fileName);

    private static string Create()
    {
        // Under /tmp (1777), so the way to the copy is traversable by everyone.
        string root = System.IO.Directory.CreateTempSubdirectory("cb-build").FullName;
        try
        {
            CopyTree(new DirectoryInfo(AppContext.BaseDirectory), root);
        }
        catch
        {
            Remove(root);
            throw;
        }
        RemoveWhenThisProcessEnds(root);
        return root;
    }

    /// <summary>Starts a shell that removes <paramref name="root"/> once its standard input reaches end of file, which
    /// happens when this process ends and the kernel closes the pipe's write end: a ProcessExit handler is not enough, as
    /// the test platform kills the test host moments after the last test.</summary>
    private static void RemoveWhenThisProcessEnds(string root)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, UseShellExecute = false };
        foreach (string argument in (string[])["-c", "read -r _; rm -rf -- \"$0\"", root]) psi.ArgumentList.Add(argument);
        Remover = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"could not start the remover of {root}");
    }

    private static void CopyTree(DirectoryInfo source, string destination)
    {
        System.IO.Directory.CreateDirectory(destination);
        File.SetUnixFileMode(destination, DirectoryMode);
        foreach (var file in source.EnumerateFiles())
        {
            string target = Path.Combine(destination, file.Name);
            file.CopyTo(target);
            var mode = file.UnixFileMode | ReadableByAll;
            if ((mode & UnixFileMode.UserExecute) != 0) mode |= ExecutableByAll;
            File.SetUnixFileMode(target, mode);
        }
        foreach (var directory in source.EnumerateDirectories())
            CopyTree(directory, Path.Combine(destination, directory.Name));
    }

    private static void Remove(string root)
    {
        try { System.IO.Directory.Delete(root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
