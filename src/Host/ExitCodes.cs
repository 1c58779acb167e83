namespace ClockBound.Host;

/// <summary>The documented exit codes of <c>clockbound</c> (README "Exit codes").</summary>
public static class ExitCodes
{
    /// <summary>Clean stop (SIGTERM/SIGINT), or a tool that succeeded.</summary>
    public const int Success = 0;
    /// <summary>Start-up failure: a resource named in the message (segment, VMClock, chrony socket, PHC) is unusable.
    /// For <c>waitsync</c>: timed out.</summary>
    public const int StartupFailure = 1;
    /// <summary>Invalid command line or configuration; nothing was touched.</summary>
    public const int InvalidInput = 2;
}
