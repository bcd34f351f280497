using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Crate.Chaos;

/// <summary>One command of the workload: its arguments, and the exit codes that mean it finished.</summary>
public sealed record Step(string Name, IReadOnlyList<string> Arguments);

/// <summary>Starts host commands in process groups of their own, kills whole groups with SIGKILL, restarts them.</summary>
public sealed partial class Workload(ChaosOptions options, string work)
{
    private int _attempt;

    /// <summary>Attempts that ended by themselves with a failing exit code (a bug the chaos found).</summary>
    public int FailedAttempts { get; private set; }

    /// <summary><c>reproduce</c> of the tasks into <paramref name="outDir"/>; <paramref name="jobs"/> 1 or 2 (null: 2, the reference), one thread per run.</summary>
    public Step Reproduce(string outDir, int? jobs)
    {
        int n = jobs ?? 2;
        return new Step("reproduce", ["reproduce", .. options.Tasks, .. ChaosOptions.ReproduceExtra,
            "--jobs", n.ToString(CultureInfo.InvariantCulture), "--threads", n.ToString(CultureInfo.InvariantCulture), "--out", outDir]);
    }

    /// <summary><c>merge</c> of <paramref name="source"/> into <paramref name="outDir"/>.</summary>
    public Step Merge(string outDir, string source) => new("merge", ["merge", source, "--out", outDir]);

    /// <summary>Runs <paramref name="step"/> to its end without a kill; returns how long it took.</summary>
    public TimeSpan RunToEnd(Step step, string label)
    {
        var clock = Stopwatch.StartNew();
        var (code, killed) = Attempt(step, null, null);
        if (killed || code != 0) throw new InvalidOperationException($"chaos: the {label} {step.Name} failed with exit {code}; see {LastLog}");
        return clock.Elapsed;
    }

    /// <summary>
    /// Runs a step until it finishes, killing it <paramref name="kills"/> times on the way: each attempt is armed either at a
    /// random fault point of <paramref name="points"/> (hit 1..<paramref name="maxHits"/>; killed once it pauses there) or
    /// with a random delay of 0.5 s up to 60 % of <paramref name="typical"/> more. An attempt that finishes before its kill counts no kill.
    /// <paramref name="make"/> builds the step for a job count (1 or 2, drawn per attempt). Returns the kills and how many were at fault points.
    /// </summary>
    public (int Kills, int AtPoints) Survive(Func<int, Step> make, int kills, TimeSpan typical, Random random, string[] points, int maxHits)
    {
        int done = 0, atPoints = 0, failures = 0;
        while (true)
        {
            var step = make(random.Next(1, 3));
            string? point = null;
            TimeSpan? delay = null;
            if (done < kills)
            {
                if (random.NextDouble() < 0.6) point = $"{points[random.Next(points.Length)]}:{random.Next(1, maxHits + 1)}";
                else delay = TimeSpan.FromSeconds(0.5 + random.NextDouble() * Math.Max(1, 0.6 * typical.TotalSeconds));
            }
            var (code, killed) = Attempt(step, point, delay);
            if (killed)
            {
                done++;
                if (point is not null) atPoints++;
                continue;
            }
            if (code == 0) return (done, atPoints);
            FailedAttempts++;
            Console.WriteLine($"chaos: {step.Name} exited {code} after a kill (see {LastLog}); restarting");
            if (++failures == 3) throw new InvalidOperationException($"chaos: {step.Name} failed three times in a row; see {LastLog}");
        }
    }

    /// <summary>The log of the latest attempt.</summary>
    public string LastLog { get; private set; } = "";

    private (int Code, bool Killed) Attempt(Step step, string? point, TimeSpan? delay)
    {
        _attempt++;
        var logs = Path.Combine(work, "logs");
        Directory.CreateDirectory(logs);
        LastLog = Path.Combine(logs, $"{_attempt:D4}-{step.Name}.log");
        var mark = Path.Combine(logs, $"{_attempt:D4}.mark");
        // setsid: the host (and its job processes) in a process group of their own, whose id is the host's pid.
        var psi = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "dotnet", options.Host }.Concat(step.Arguments)) psi.ArgumentList.Add(a);
        psi.Environment["CRATE_LOG_LEVEL"] = "Warning";
        psi.Environment.Remove("CRATE_OUT");
        if (point is not null)
        {
            psi.Environment["CRATE_CHAOS_PAUSE"] = point;
            psi.Environment["CRATE_CHAOS_MARK"] = mark;
        }
        using var log = new StreamWriter(LastLog) { AutoFlush = true };
        log.WriteLine($"# {string.Join(" ", step.Arguments)}" + (point is not null ? $"  [pause at {point}]" : delay is { } d ? $"  [kill after {d.TotalSeconds:0.00} s]" : ""));
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start setsid");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        while (!process.WaitForExit(20))
        {
            bool due = (point is not null && File.Exists(mark)) || (delay is { } after && clock.Elapsed >= after);
            if (!due) continue;
            KillGroup(process.Id);
            process.WaitForExit();
            WaitGroupGone(process.Id);
            lock (log) log.WriteLine($"# killed (SIGKILL to process group {process.Id}) after {clock.Elapsed.TotalSeconds:0.00} s" +
                                     (File.Exists(mark) ? $" paused at: {File.ReadAllText(mark).Trim()}" : ""));
            return (137, true);
        }
        process.WaitForExit();
        lock (log) log.WriteLine($"# exit {process.ExitCode} after {clock.Elapsed.TotalSeconds:0.00} s");
        return (process.ExitCode, false);
    }

    private static void KillGroup(int group)
    {
        if (Kill(-group, 9) != 0 && Marshal.GetLastPInvokeError() != 3)   // 3: ESRCH, already gone
            throw new InvalidOperationException($"kill(-{group}, SIGKILL) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Waits until no live process of the group is left (the job processes die with it; zombies do not count).</summary>
    private static void WaitGroupGone(int group)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (LiveMembers(group) > 0 && DateTime.UtcNow < deadline) Thread.Sleep(10);
    }

    private static int LiveMembers(int group)
    {
        int live = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out _)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            // "pid (comm) state ppid pgrp ...": fields after the last ')'.
            var f = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 2 && f[2] == group.ToString(CultureInfo.InvariantCulture) && f[0] is not ("Z" or "X")) live++;
        }
        return live;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
