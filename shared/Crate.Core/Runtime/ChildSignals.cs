using System.Runtime.InteropServices;

namespace Crate.Core.Runtime;

/// <summary>
/// While a relaunched child runs, keeps this (parent) process alive on termination signals and passes
/// them to the child, so Ctrl-C reaches the host that does the work and the parent returns its exit code.
/// <para>
/// Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT) and a terminal hang-up (SIGHUP) go from the terminal to the whole
/// foreground process group, which includes the child; forwarding them too would deliver them twice (the
/// host treats a second Ctrl-C as "stop now"). So they are forwarded only when this process is not the
/// terminal's foreground group (e.g. <c>kill -INT</c> from a script). SIGTERM (<c>kill</c>, <c>docker stop</c>)
/// is always forwarded.
/// </para>
/// </summary>
public sealed class ChildSignals : IDisposable
{
    private const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGTERM = 15;
    private readonly int _child;
    private readonly List<PosixSignalRegistration> _registrations = [];

    /// <summary>Starts passing signals to process <paramref name="childPid"/>.</summary>
    public ChildSignals(int childPid)
    {
        _child = childPid;
        Register(PosixSignal.SIGINT, SIGINT, fromTerminal: true);
        Register(PosixSignal.SIGQUIT, SIGQUIT, fromTerminal: true);
        Register(PosixSignal.SIGHUP, SIGHUP, fromTerminal: true);
        Register(PosixSignal.SIGTERM, SIGTERM, fromTerminal: false);
    }

    /// <summary>Sends signal <paramref name="signal"/> (Linux number) to process <paramref name="pid"/>; false on failure.</summary>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    /// <summary>Whether this process is in the foreground process group of the terminal on stdin/stdout/stderr.</summary>
    public static bool IsTerminalForeground()
    {
        int group = getpgrp();
        for (int fd = 0; fd <= 2; fd++)
            if (isatty(fd) == 1 && tcgetpgrp(fd) == group) return true;
        return false;
    }

    private void Register(PosixSignal signal, int number, bool fromTerminal) =>
        _registrations.Add(PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;                         // the parent waits for the child instead of dying
            if (!fromTerminal || !IsTerminalForeground()) Send(_child, number);
        }));

    /// <summary>Restores default signal handling.</summary>
    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern int getpgrp();

    [DllImport("libc")]
    private static extern int tcgetpgrp(int fd);

    [DllImport("libc")]
    private static extern int isatty(int fd);
}
