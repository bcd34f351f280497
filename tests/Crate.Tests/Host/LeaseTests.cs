using System.Diagnostics;
using System.Text;
using Crate.Core.Runtime;
using Crate.Host.Running;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>
/// One attempt per run (<see cref="RunLeases"/>), with real host processes on one output folder: two <c>reproduce</c>
/// at once share the plan without training a run twice (and with <c>--wait</c> both end with everything finished); a
/// SIGTERM releases the lease; a SIGKILLed attempt's lease is taken over at once, with a line saying so.
/// </summary>
[Collection("host processes")]
public class LeaseTests
{
    private static string[] Plan(string outDir, string seeds, params string[] extra) => Plan(outDir, seeds, 1, extra);

    private static string[] Plan(string outDir, string seeds, int jobs, params string[] extra) =>
        ["reproduce", "sample", "--preset", "smoke", "--seeds", seeds, "--threads", $"{jobs}", "--jobs", $"{jobs}",
         "--set", "finetune.epochs=100", "--out", outDir, "--plugins", HostProcess.SampleDir, .. extra];

    [Fact]
    public void Two_reproduce_processes_on_one_folder_record_every_run_once_and_train_none_twice()
    {
        var outDir = HostProcess.TempDir("lease-two");
        // The second with --jobs 2: its parent skips a busy run without starting a job, or the job finds it busy.
        var (a, b) = RunTwo(Plan(outDir, "0,1"), Plan(outDir, "0,1", jobs: 2));
        foreach (var r in new[] { a, b }) Assert.True(r.Result.ExitCode is 0 or 75, r.ToString());
        var done = a.Lines.Concat(b.Lines).Where(l => l.StartsWith("[done] ", StringComparison.Ordinal))
            .Select(l => l[..l.IndexOf(" in ", StringComparison.Ordinal)]).ToList();
        Assert.Equal(4, done.Count);
        Assert.Equal(4, done.Distinct().Count());   // no run trained by both
        // The second found the first's run in flight and named it.
        Assert.Contains(b.Lines, l => l.StartsWith("[busy] sample/", StringComparison.Ordinal) && l.Contains($", pid {a.Pid}, since "));
        AssertRecordedOnce(outDir, runs: 4);

        var again = HostProcess.Run(Plan(outDir, "0,1"));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(4, again.Stdout.Split('\n').Count(l => l.StartsWith("[skip]")));
    }

    [Fact]
    public void With_wait_the_second_process_waits_for_the_runs_of_the_first_and_both_end_with_everything_finished()
    {
        var outDir = HostProcess.TempDir("lease-wait");
        var (a, b) = RunTwo(Plan(outDir, "0", "--wait"));
        Assert.True(a.Result.ExitCode == 0, a.ToString());
        Assert.True(b.Result.ExitCode == 0, b.ToString());
        Assert.Contains(b.Lines, l => l.StartsWith("[wait] sample/", StringComparison.Ordinal) && l.Contains($", pid {a.Pid}, since "));
        Assert.Contains("All runs succeeded", b.Result.Stdout);
        AssertRecordedOnce(outDir, runs: 2);
    }

    [Fact]
    public void Sigterm_releases_the_lease_and_a_killed_attempts_lease_is_taken_over_at_once()
    {
        var outDir = HostProcess.TempDir("lease-kill");
        string[] args = Plan(outDir, "0", "--models", "crate", "--set", "finetune.checkpoint_every=20");
        string lease;
        using (var p = HostProcess.Start(args))
        {
            lease = UntilCheckpointed(p, outDir);
            Signal(p.Id, "-TERM");
            Assert.True(p.WaitForExit(60_000), "no exit within a minute of SIGTERM");
            Assert.Equal(130, p.ExitCode);
        }
        Assert.Equal(LeaseStatus.Free, FileLease.Peek(lease, RunLeases.DefaultStaleAfter)!.Status);

        int killed;
        using (var p = HostProcess.Start(args))
        {
            UntilCheckpointed(p, outDir);
            killed = p.Id;
            p.Kill(entireProcessTree: true);   // SIGKILL: nothing is released
            p.WaitForExit();
        }
        var held = FileLease.Peek(lease, RunLeases.DefaultStaleAfter)!;
        Assert.Equal((LeaseStatus.Stale, killed), (held.Status, held.Record!.Pid));

        var r = HostProcess.Run(args, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"[lease] sample/crate seed 0: took over the stale lease of host {Environment.MachineName}, pid {killed}, since ", r.Stdout);
        Assert.Contains($"(process {killed} is gone)", r.Stdout);
        Assert.Contains("[resume] sample/crate seed 0", r.Stdout);
        Assert.Equal(LeaseStatus.Free, FileLease.Peek(lease, RunLeases.DefaultStaleAfter)!.Status);
        AssertRecordedOnce(outDir, runs: 1, attempts: 3);
    }

    [Fact]
    public async Task A_stalled_holder_is_taken_over_after_the_timeout_and_stops_without_writing_when_it_wakes()
    {
        var outDir = HostProcess.TempDir("lease-stall");
        string[] args = Plan(outDir, "0", "--models", "crate", "--lease-timeout", "3", "--set", "finetune.checkpoint_every=20");
        using var a = HostProcess.Start(args);
        var lease = UntilCheckpointed(a, outDir, out var outA);
        var dbLock = Path.Combine(outDir, ResultsStore.FileName + ".lock");
        // Stall it (SIGSTOP: no heartbeat), though not in the middle of a database operation, which would hold up the other too.
        for (int i = 0; ; i++)
        {
            Signal(a.Id, "-STOP");
            if (FileLease.Peek(dbLock, TimeSpan.FromDays(1)) is not { Status: LeaseStatus.Alive, Record.Pid: var pid } || pid != a.Id) break;
            Signal(a.Id, "-CONT");
            Assert.True(i < 100, "the first attempt held the database lock at every try");
            Thread.Sleep(20);
        }
        Thread.Sleep(4_000);                                                       // past the 3 s stale timeout
        using var b = Collect(HostProcess.Start(args), out var outB, out var errB);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!(FileLease.Peek(lease, TimeSpan.FromDays(1)) is { Record.Pid: var holder } && holder == b.Id) && !b.HasExited && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        Signal(a.Id, "-CONT");
        Assert.True(a.WaitForExit(120_000) && b.WaitForExit(TimeSpan.FromMinutes(3)), "the attempts did not end");
        a.WaitForExit();
        b.WaitForExit();
        var first = Snapshot(outB);
        Assert.True(b.ExitCode == 0, $"exit {b.ExitCode}\n{first}\n{Snapshot(errB)}");
        Assert.Contains($"[lease] sample/crate seed 0: took over the stale lease of host {Environment.MachineName}, pid {a.Id}, since ", first);
        Assert.Contains("(no heartbeat for ", first);
        Assert.Equal(75, a.ExitCode);                                              // it found out and stopped
        Assert.Contains("[busy] sample/crate seed 0: stopped without writing, its lease was taken over: another attempt took it over: " +
                        $"host {Environment.MachineName}, pid {b.Id}", await outA);
        AssertRecordedOnce(outDir, runs: 1, attempts: 2);
    }

    /// <summary>Every run finished, its rows each once, no half-written checkpoint, every lease released.</summary>
    private static void AssertRecordedOnce(string outDir, int runs, int attempts = 1)
    {
        using var store = ResultsStore.Open(outDir);
        var all = store.Runs();
        Assert.Equal(runs, all.Count);
        foreach (var run in all)
        {
            Assert.Equal(RunStatus.Finished, run.Status);
            Assert.Equal(attempts, run.Attempts);
            var rows = store.Epochs(run.Id);
            Assert.NotEmpty(rows);
            Assert.Equal(rows.Count, rows.Select(e => (e.Phase, e.Step)).Distinct().Count());
            Assert.Equal(LeaseStatus.Free, FileLease.Peek(RunLeases.Folder(outDir, run.Id), RunLeases.DefaultStaleAfter)!.Status);
        }
        var temporary = Directory.EnumerateFileSystemEntries(outDir, "*", SearchOption.AllDirectories)
            .Where(p => Path.GetFileName(p) is var n && (n.StartsWith(".tmp-") || n.StartsWith(".old-") || n.EndsWith(".tmp"))).ToList();
        Assert.Empty(temporary);
    }

    private sealed record Attempt(int Pid, HostProcess.Result Result, List<string> Lines)
    {
        public override string ToString() => Result.ToString();
    }

    /// <summary>Starts one process, then the second (<paramref name="second"/>, else the same command) once the first trains its first run; both to the end.</summary>
    private static (Attempt A, Attempt B) RunTwo(string[] args, string[]? second = null)
    {
        using var a = Collect(HostProcess.Start(args), out var outA, out var errA);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!Snapshot(outA).Contains("[run] ") && !a.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(50);
        using var b = Collect(HostProcess.Start(second ?? args), out var outB, out var errB);
        foreach (var p in new[] { a, b })
            if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(entireProcessTree: true); Assert.Fail("a reproduce did not end within 5 minutes"); }
        a.WaitForExit();
        b.WaitForExit();
        Attempt Make(Process p, StringBuilder o, StringBuilder e) =>
            new(p.Id, new HostProcess.Result(p.ExitCode, Snapshot(o), Snapshot(e)), Snapshot(o).Split('\n').Select(l => l.TrimEnd('\r')).ToList());
        return (Make(a, outA, errA), Make(b, outB, errB));
    }

    private static Process Collect(Process p, out StringBuilder stdout, out StringBuilder stderr)
    {
        var o = stdout = new StringBuilder();
        var e = stderr = new StringBuilder();
        p.OutputDataReceived += (_, x) => { if (x.Data is not null) lock (o) o.AppendLine(x.Data); };
        p.ErrorDataReceived += (_, x) => { if (x.Data is not null) lock (e) e.AppendLine(x.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static string Snapshot(StringBuilder b) { lock (b) return b.ToString(); }

    /// <summary>
    /// Waits until <paramref name="p"/> holds the lease of the plan's one run and has written a finetune checkpoint of its
    /// own (one that was not there when it took the lease); returns the lease folder.
    /// </summary>
    private static string UntilCheckpointed(Process p, string outDir) => UntilCheckpointed(p, outDir, out _);

    private static string UntilCheckpointed(Process p, string outDir, out Task<string> stdout)
    {
        stdout = p.StandardOutput.ReadToEndAsync();
        _ = p.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string? lease = null;
        List<string>? before = null;
        while (DateTime.UtcNow < deadline && !p.HasExited)
        {
            if (lease is null)
            {
                var folders = Directory.Exists(Path.Combine(outDir, RunLeases.FolderName)) ? Directory.GetDirectories(Path.Combine(outDir, RunLeases.FolderName)) : [];
                if (folders.Length == 1 && FileLease.Peek(folders[0], RunLeases.DefaultStaleAfter) is { Status: LeaseStatus.Alive, Record.Pid: var pid } && pid == p.Id)
                    (lease, before) = (folders[0], Checkpoints(outDir));
            }
            else if (Checkpoints(outDir).Except(before!).Any()) return lease;
            Thread.Sleep(50);
        }
        Assert.Fail(p.HasExited ? "the run ended before it could be stopped" : "no lease and checkpoint of the attempt within 2 minutes");
        return "";
    }

    /// <summary>The finetune checkpoints written so far (by this or an earlier attempt).</summary>
    private static List<string> Checkpoints(string outDir)
    {
        try
        {
            return Directory.EnumerateDirectories(outDir, "finetune", SearchOption.AllDirectories)
                .SelectMany(d => Directory.EnumerateDirectories(d, "step-*")).ToList();
        }
        catch (IOException) { return []; }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString()]);
        kill.WaitForExit();
    }
}
