using System.Diagnostics;
using System.Globalization;

namespace Crate.Core.Runtime;

/// <summary>
/// Who a process is, in a form another process can check: the host name, the pid, when that pid started and the
/// machine (kernel boot and pid namespace) in which the pid means something. Two identities with the same
/// <see cref="Machine"/> can be checked against each other's process table (<see cref="IsGone"/>); across machines
/// (another node on shared storage, another container) only time tells (a lease's heartbeat).
/// </summary>
/// <param name="Host">The host name (<see cref="Environment.MachineName"/>).</param>
/// <param name="Pid">The process id.</param>
/// <param name="ProcessStart">When the pid started, as the kernel counts it (Linux: clock ticks since boot); tells a reused pid apart.</param>
/// <param name="Machine">
/// The kernel boot id and pid namespace (Linux), else the host name: where <see cref="Pid"/> can be looked up. Empty when unknown.
/// </param>
public sealed record ProcessIdentity(string Host, int Pid, string ProcessStart, string Machine)
{
    /// <summary>This process.</summary>
    public static ProcessIdentity Current { get; } = Of(Environment.ProcessId) ?? new(Environment.MachineName, Environment.ProcessId, "", "");

    /// <summary>The identity of the live process <paramref name="pid"/> on this machine, or null when there is none.</summary>
    public static ProcessIdentity? Of(int pid)
    {
        var start = StartOf(pid);
        return start is null ? null : new ProcessIdentity(Environment.MachineName, pid, start, MachineId());
    }

    /// <summary>
    /// True when this identity's process has ended: it ran on this machine and its pid is no longer running, is a
    /// zombie, or now belongs to a process started at another time. False when it runs, and when that cannot be known
    /// (another machine): the caller then goes by time.
    /// </summary>
    public bool IsGone()
    {
        if (Machine.Length == 0 || Machine != Current.Machine) return false;
        var start = StartOf(Pid);
        return start is null || (ProcessStart.Length > 0 && start != ProcessStart);
    }

    /// <summary>"host node7, pid 1234".</summary>
    public override string ToString() => $"host {Host}, pid {Pid}";

    private static string MachineId()
    {
        if (!OperatingSystem.IsLinux()) return "host:" + Environment.MachineName;
        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            var pidNamespace = new FileInfo("/proc/self/ns/pid").LinkTarget ?? "";
            return $"{boot}/{pidNamespace}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    /// <summary>The start of <paramref name="pid"/> (Linux: field 22 of /proc/PID/stat), or null when it is not running (or a zombie).</summary>
    private static string? StartOf(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            string stat;
            try { stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 20 || fields[0] is "Z" or "X" or "x") return null;
            return fields[19];   // field 22 overall: start time in clock ticks after boot
        }
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.HasExited ? null : p.StartTime.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception) { return null; }
    }
}
