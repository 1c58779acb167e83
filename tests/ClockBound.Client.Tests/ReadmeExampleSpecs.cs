using System.Text.RegularExpressions;
using ClockBound.TestSupport;

namespace ClockBound.Client.Tests;

/// <summary>The README's client example, taken from README.md as it is, compiles in a project of its own that only
/// references src/Client, as a user's project would.</summary>
public sealed partial class ReadmeExampleSpecs : IDisposable
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>Restore and compile of a one-file project; generous for a loaded 2-core machine.</summary>
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(3);

    private readonly TempDirectory _dir = new("cbreadme");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Readme_client_example_must_compile_with_a_project_reference_to_the_client()
    {
        string readme = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "README.md"));
        string section = readme[readme.IndexOf("## Client library (.NET)", StringComparison.Ordinal)..];
        string example = CSharpBlock().Match(section) is { Success: true } block
            ? block.Groups["code"].Value
            : throw new InvalidOperationException("README.md: no ```csharp block under \"## Client library (.NET)\"");
        await File.WriteAllTextAsync(_dir.Combine("Program.cs"), example);
        string client = Path.Combine(RepoPaths.Root, "src", "Client", "ClockBound.Client.csproj");
        await File.WriteAllTextAsync(_dir.Combine("ReadmeExample.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{client}" />
              </ItemGroup>
            </Project>
            """);

        // The client was built with these tests: compile only the example against it (cheap, and no second build of
        // src/Client racing with anything else that builds it).
        var (exit, output) = await DotnetAsync("build", "-c", Configuration, "-p:BuildProjectReferences=false",
            "--nologo", "-v", "quiet", "-clp:ErrorsOnly", "-nodeReuse:false");

        Assert.True(exit == 0, $"the README's client example does not compile against src/Client (exit {exit}):\n{output}");
        Assert.True(File.Exists(_dir.Combine("bin", Configuration, "net10.0", "ReadmeExample.dll")), output);
    }

    [GeneratedRegex(@"```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    private async Task<(int Exit, string Output)> DotnetAsync(params string[] args)
    {
        var result = await CommandRun.RunAsync("dotnet", args, BuildTimeout, _dir.Path, new Dictionary<string, string>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["MSBUILDDISABLENODEREUSE"] = "1", // leave no build server behind
        });
        return (result.ExitCode, result.Stdout + result.Stderr);
    }
}
