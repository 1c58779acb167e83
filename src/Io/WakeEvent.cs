using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ClockBound.Io;

/// <summary>
/// An auto-reset event for one waiting thread, built directly on a Linux futex: <see cref="Set"/> wakes the thread blocked
/// in <see cref="Wait(TimeSpan)"/>, or makes its next wait return at once.
/// </summary>
/// <remarks>
/// Why not <see cref="AutoResetEvent"/> or <see cref="Monitor.Wait(object, int)"/>: on Linux both go through the runtime's
/// portability layer (a mutex, a condition variable and the bookkeeping of alertable waits), which on the virtual machines
/// the daemon runs on costs several times the CPU of the futex system call under it, on every wake-up; and the slim
/// variants spin before they block. The daemon's few threads (the actor thread, the scheduler thread, the VMClock poll)
/// wake up hundreds of times a second while otherwise idle, so this is most of its idle CPU (docs/performance-notes.md, "Idle CPU").
/// <para>
/// The state word is 0 (not set, nobody waiting), 1 (set) or -1 (the waiter is, or is about to be, asleep in the kernel).
/// <see cref="Set"/> makes a system call only in the last case. It lives in a pinned array, so its address is stable and
/// it stays valid as long as anyone holds the event: a late <see cref="Set"/> can never touch freed memory.
/// </para>
/// </remarks>
public sealed unsafe class WakeEvent
{
    private const int NotSet = 0, IsSet = 1, Sleeping = -1;

    private readonly int[] _state = GC.AllocateArray<int>(1, pinned: true);

    /// <summary>Sets the event: wakes the waiting thread, or lets its next <see cref="Wait(TimeSpan)"/> return at once.
    /// Never blocks; one system call if the waiter sleeps, none otherwise.</summary>
    public void Set()
    {
        if (Interlocked.Exchange(ref _state[0], IsSet) == Sleeping)
            Wake();
    }

    /// <summary>Waits until the event is set (and resets it), at most <paramref name="timeout"/>
    /// (<see cref="Timeout.InfiniteTimeSpan"/>: no limit). True if it was set, false on timeout. One thread waits at a time.</summary>
    public bool Wait(TimeSpan timeout)
    {
        // long.MaxValue (no limit) for the infinite timeout and for one that ends after the end of time (TimeSpan.MaxValue).
        long deadline = StopwatchTicks.Deadline(timeout);
        while (true)
        {
            // Announce the sleep; a Set that comes first leaves 1 here, which is taken instead.
            if (Interlocked.CompareExchange(ref _state[0], Sleeping, NotSet) == IsSet)
            {
                _state[0] = NotSet;
                return true;
            }

            long remaining = deadline == long.MaxValue ? long.MaxValue : deadline - Stopwatch.GetTimestamp();
            if (remaining > 0)
                Sleep(remaining);

            // Woken, timed out, interrupted or raced with Set: whatever the kernel said, the word says what happened.
            if (Interlocked.Exchange(ref _state[0], NotSet) == IsSet)
                return true;
            if (deadline != long.MaxValue && Stopwatch.GetTimestamp() >= deadline)
                return false;
        }
    }

    /// <summary>FUTEX_WAIT while the word is still -1, for at most <paramref name="stopwatchTicks"/> (long.MaxValue: no limit).</summary>
    private void Sleep(long stopwatchTicks)
    {
        Timespec timeout = default;
        Timespec* relative = null;
        if (stopwatchTicks != long.MaxValue)
        {
            long nanoseconds = (long)(stopwatchTicks * (1e9 / Stopwatch.Frequency));
            timeout = new Timespec(nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000);
            relative = &timeout;
        }
        fixed (int* word = _state)
        {
            if (Interop.Libc.Futex(Interop.Libc.SYS_futex, word, Interop.Libc.FUTEX_WAIT_PRIVATE, Sleeping, relative, null, 0) == -1)
            {
                int errno = Marshal.GetLastPInvokeError();
                // EAGAIN: the word was no longer -1 (Set came first); ETIMEDOUT; EINTR: a signal. All expected.
                if (errno is not (Interop.Libc.EAGAIN or Interop.Libc.ETIMEDOUT or Interop.Libc.EINTR))
                    throw new SyscallException("futex(FUTEX_WAIT)", "wake event", errno);
            }
        }
    }

    private void Wake()
    {
        fixed (int* word = _state)
        {
            if (Interop.Libc.Futex(Interop.Libc.SYS_futex, word, Interop.Libc.FUTEX_WAKE_PRIVATE, 1, null, null, 0) == -1)
                throw SyscallException.FromLastError("futex(FUTEX_WAKE)", "wake event");
        }
    }
}
