namespace ClockBound.TestSupport;

/// <summary>Locations in the repository and of the built daemon, found from the test assembly's directory.</summary>
public static class RepoPaths
{
    /// <summary>The directory holding ClockBound.sln.</summary>
    public static string Root { get; } = FindRoot();

    public static string Config(string name) => Path.Combine(Root, "config", name);

    /// <summary>The <c>clockbound</c> executable copied next to the test assembly by the project reference to src/Host.</summary>
    public static string Daemon
    {
        get
        {
            string path = Path.Combine(AppContext.BaseDirectory, "clockbound");
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException($"the clockbound executable is not next to the tests at {path}: does the test project reference src/Host?");
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ClockBound.sln")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"ClockBound.sln not found above {AppContext.BaseDirectory}");
    }
}
