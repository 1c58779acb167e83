using ClockBound.Io;

namespace ClockBound.Soak;

/// <summary>
/// Reads the generation of one segment file through a read-only mapping every millisecond, on its own thread, and notes
/// every step backwards. The counter is 16 bits and wraps (about every hour at 10 writes per second), so "forward" is a
/// modular distance below half the range; a warm restart carries it on, so one watch spans the daemon runs on one file.
/// </summary>
internal sealed unsafe class GenerationWatch : IDisposable
{
    /// <summary>Half the 16-bit range: a step of more than this is a step back. Between two reads 1 ms apart the daemon
    /// writes at most a few times.</summary>
    private const int HalfRange = 1 << 15;

    /// <summary>docs/segment-format.md: the u16 generation at byte 14 of the 80-byte segment.</summary>
    private const int GenerationOffset = 14, SegmentLength = 80;

    private readonly List<string> _problems = [];
    private readonly Thread _thread;
    private readonly MappedRegion _mapping;
    private readonly string _path;
    private volatile bool _stop;

    public GenerationWatch(string path)
    {
        _path = path;
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        _mapping = MappedRegion.Map(file, path, SegmentLength, writable: false);
        _thread = new Thread(Run) { IsBackground = true, Name = "generation-watch" };
        _thread.Start();
    }

    /// <summary>Valid after <see cref="Dispose"/>.</summary>
    public IReadOnlyList<string> Problems => _problems;

    public long Steps { get; private set; }

    private void Run()
    {
        ushort* generation = (ushort*)(_mapping.Pointer + GenerationOffset);
        ushort last = Volatile.Read(ref *generation);
        while (!_stop)
        {
            ushort now = Volatile.Read(ref *generation);
            if (now != last)
            {
                int forward = (ushort)(now - last);
                if (forward >= HalfRange)
                    _problems.Add($"{DateTime.UtcNow:HH:mm:ss} generation of {_path} went back from {last} to {now}");
                Steps++;
                last = now;
            }
            Thread.Sleep(1); // a polling period, not synchronisation: the daemon writes at most every few ms
        }
    }

    public void Dispose()
    {
        if (_stop) return;
        _stop = true;
        _thread.Join();
        _mapping.Dispose();
    }
}
