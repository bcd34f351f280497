using Crate.Host.Cli;
using Crate.Host.Running;
using Crate.Core.Contract;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>
/// <c>reproduce --jobs N</c>: N runs at once, each in a job process of the host with its share of the threads; the same
/// results as one job, the same resume, Ctrl-C and failure handling.
/// </summary>
[Collection("host processes")]
public class JobsTests
{
    private static readonly string[] Plugins = ["--plugins", HostProcess.SampleDir];

    private static string[] Smoke(string outDir, params string[] extra) =>
        ["reproduce", "sample", "--preset", "smoke", "--threads", "1", "--out", outDir, .. Plugins, .. extra];

    [Fact]
    public void TwoJobsRecordTheSameResultsAsOneJobAndRunAtOnce()
    {
        var one = HostProcess.TempDir("jobs-1");
        var two = HostProcess.TempDir("jobs-2");
        var r1 = HostProcess.Run(Smoke(one, "--seeds", "0,1", "--jobs", "1"));
        Assert.True(r1.ExitCode == 0, r1.ToString());
        Assert.Contains("Plan: 4 run(s) on cpu with 1 thread(s)", r1.Stdout);
        // --threads 2 shared by 2 jobs: one thread each, as the one-job run had.
        var r2 = HostProcess.Run(["reproduce", "sample", "--preset", "smoke", "--seeds", "0,1", "--out", two, "--jobs=2", "--threads", "2", .. Plugins]);
        Assert.True(r2.ExitCode == 0, r2.ToString());
        Assert.Contains("Plan: 4 run(s) on cpu with 2 jobs at once, 1 thread(s) each", r2.Stdout);
        Assert.Contains("All runs succeeded", r2.Stdout);
        Assert.Equal(4, Lines(r2.Stdout).Count(l => l.StartsWith("[done] sample/")));
        Assert.DoesNotContain(JobChannel.Prefix, r2.Stdout);
        // Every evaluation is one aligned line, as with one job.
        Assert.Equal(Lines(r1.Stdout).Count(l => l.StartsWith("  sample/")), Lines(r2.Stdout).Count(l => l.StartsWith("  sample/")));

        using var a = ResultsStore.Open(one);
        using var b = ResultsStore.Open(two);
        var runsA = a.Runs();
        var runsB = b.Runs();
        Assert.Equal(runsA.Select(x => x.Id), runsB.Select(x => x.Id));
        foreach (var (x, y) in runsA.Zip(runsB))
        {
            Assert.Equal(RunStatus.Finished, y.Status);
            Assert.Equal(1, y.Environment.Threads);
            Assert.Equal(Untimed(x.Metrics), Untimed(y.Metrics));
            Assert.Equal(a.Epochs(x.Id).Select(e => (e.Phase, e.Step, Untimed(e.Metrics))), b.Epochs(y.Id).Select(e => (e.Phase, e.Step, Untimed(e.Metrics))));
            Assert.Equal(a.WhiteBox(x.Id).Select(w => (w.Measure, w.Layer, w.Mean)), b.WhiteBox(y.Id).Select(w => (w.Measure, w.Layer, w.Mean)));
            Assert.True(File.Exists(Path.Combine(y.RunDirectory, "run.log")), y.RunDirectory);
        }
        // The two first runs overlapped in time: they ran at once.
        var ordered = runsB.OrderBy(x => x.StartedUtc).ToList();
        Assert.True(ordered[1].StartedUtc < ordered[0].FinishedUtc, "the second run started only after the first finished");

        var again = HostProcess.Run(Smoke(two, "--seeds", "0,1", "--jobs", "2"));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(4, Lines(again.Stdout).Count(l => l.StartsWith("[skip]")));
    }

    [Fact]
    public async Task CtrlCOrSigtermStopsEveryJobWithACheckpointAndTheRerunResumesThemAll()
    {
        var outDir = HostProcess.TempDir("jobs-sigint");
        string[] args = ["reproduce", "sample", "--preset", "small", "--models", "crate", "--seeds", "0,1", "--threads", "1", "--jobs", "2",
            "--set", "train.epochs=40", "--set", "train.checkpoint_every=5", "--out", outDir, .. Plugins];
        using (var p = HostProcess.Start(args))
        {
            var (stdout, stderr) = await UntilBothRunsCheckpointed(p, outDir, "Ctrl-C");
            // The signal goes to the host alone (not to its process group, as a terminal's Ctrl-C would): it stops its jobs itself.
            var signal = HostEndToEndTests.SigIntIgnored() ? "-TERM" : "-INT";
            using (var kill = System.Diagnostics.Process.Start("kill", [signal, p.Id.ToString()])) kill.WaitForExit();
            Assert.True(p.WaitForExit(60_000), "no exit within a minute of the signal");
            Assert.True(p.ExitCode == 130, $"exit {p.ExitCode}\n{await stdout}\n{await stderr}");
            var text = await stdout;
            Assert.Contains("Interrupted: rerun the same command to resume.", text);
            Assert.Equal(2, Lines(text).Count(l => l.StartsWith("[interrupted] sample/crate seed ")));
        }
        using (var store = ResultsStore.Open(outDir))
        {
            Assert.Equal(2, store.Runs().Count);
            Assert.All(store.Runs(), run =>
            {
                Assert.Equal(RunStatus.Interrupted, run.Status);
                Assert.NotNull(Crate.Core.Training.CheckpointStore.FindLatest(Path.Combine(run.RunDirectory, "checkpoints", "pretrain")));
            });
        }
        var r = HostProcess.Run(args, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("[resume] sample/crate seed 0", r.Stdout);
        Assert.Contains("[resume] sample/crate seed 1", r.Stdout);
    }

    [Fact]
    public async Task AJobWhoseProcessDiesIsFailedTheOtherJobFinishesAndTheRerunResumesIt()
    {
        var outDir = HostProcess.TempDir("jobs-crash");
        string[] args = ["reproduce", "sample", "--preset", "small", "--models", "crate", "--seeds", "0,1", "--threads", "1", "--jobs", "2",
            "--set", "train.epochs=20", "--set", "train.checkpoint_every=5", "--set", "finetune.epochs=2", "--out", outDir, .. Plugins];
        HostProcess.Result first;
        using (var p = HostProcess.Start(args))
        {
            var (stdout, stderr) = await UntilBothRunsCheckpointed(p, outDir, "a job could be killed");
            var job = ChildProcesses(p.Id).First();
            using (var kill = System.Diagnostics.Process.Start("kill", ["-KILL", job.ToString()])) kill.WaitForExit();
            Assert.True(p.WaitForExit(180_000), "the other job did not finish within 3 minutes");
            first = new HostProcess.Result(p.ExitCode, await stdout, await stderr);
        }
        Assert.True(first.ExitCode == 1, first.ToString());
        Assert.Contains("its job process exited with code 137", first.Stderr);
        Assert.Contains("1 run(s) failed.", first.Stdout);
        using (var store = ResultsStore.Open(outDir))
        {
            Assert.Single(store.Runs(), x => x.Status == RunStatus.Finished);
            Assert.Single(store.Runs(), x => x.Status == RunStatus.Failed && x.Error!.Contains("exited with code 137"));
            // The killed job could not release its run lease; its parent did.
            Assert.All(store.Runs(), x => Assert.Equal(Crate.Core.Runtime.LeaseStatus.Free,
                Crate.Core.Runtime.FileLease.Peek(RunLeases.Folder(outDir, x.Id), RunLeases.DefaultStaleAfter)!.Status));
        }
        var r = HostProcess.Run(args, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Single(Lines(r.Stdout), l => l.StartsWith("[skip] sample/crate seed "));
        Assert.Single(Lines(r.Stdout), l => l.StartsWith("[resume] sample/crate seed "));
    }

    [Fact]
    public void AJobGetsTheCommandLineWithItsThreadsAndRunKey()
    {
        string[] args = ["reproduce", "sample", "--jobs", "4", "--threads=8", "--set", "train.lr=1e-3", "--out", "o", "--jobs:3"];
        Assert.Equal(["reproduce", "sample", "--set", "train.lr=1e-3", "--out", "o", "--threads", "2", "--jobs", "1", "--run-key", "abc"],
            CliApp.JobArguments(args, "abc", 2));
        Assert.Equal(1, CliApp.DefaultJobs("cuda"));
        Assert.Equal(Environment.ProcessorCount, CliApp.DefaultJobs("cpu"));
    }

    [Fact]
    public void TheJobProtocolCarriesMessagesProgressAndOutcomes()
    {
        var output = new StringWriter();
        var channel = new JobChannel(output);
        channel.Message("  sample/crate seed 0      ep 1");
        var info = new ProgressInfo(60, 240, 1, 0.5, 1e-3, 100, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(90), "finetune");
        channel.Update(info);
        channel.Update(info with { Step = 61 });   // within the interval: not sent
        channel.Update(info with { Step = 240 });  // the last step always is
        var lines = Lines(output.ToString()).Select(JobChannel.Parse).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Equal("  sample/crate seed 0      ep 1", lines[0]!.Message);
        Assert.Equal(info, lines[1]!.Progress);
        Assert.Equal(240, lines[2]!.Progress!.Step);
        Assert.Null(JobChannel.Parse("a plugin's own line"));
    }

    [Fact]
    public void Two_jobs_print_one_status_line_each_and_evaluations_as_their_own_lines()
    {
        var output = new StringWriter();
        var view = new ProgressView(output, totalRuns: 4, interactive: false, jobs: 2);
        var a = view.Job(0);
        var b = view.Job(1);
        a.StartRun(1, "sample/crate seed 0");
        b.StartRun(2, "sample/transformer seed 0");
        a.Update(new ProgressInfo(8, 16, 1, 0.5, 1e-3, 100, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)));
        b.Update(new ProgressInfo(4, 16, 1, 0.7, 1e-3, 90, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)));
        b.Message("  sample/transformer seed 0  ep   1 step       4");
        var lines = Lines(output.ToString());
        Assert.Equal(3, lines.Count);
        Assert.StartsWith("[1/4 sample/crate seed 0] [████████········]  50% ep 1 step 8/16", lines[0]);
        Assert.StartsWith("[2/4 sample/transformer seed 0] [████············]  25% ep 1 step 4/16", lines[1]);
        // plan ETA: this run's 30 s plus the two runs not started, at this run's 40 s each, shared by two jobs.
        Assert.EndsWith("ETA 0:01:10", lines[1]);
    }

    /// <summary>The metrics without the timings (samples/s, seconds), as one comparable string with every digit.</summary>
    private static string Untimed(IReadOnlyDictionary<string, double> metrics) => string.Join(",", metrics
        .Where(kv => !kv.Key.Contains("samples_per_s", StringComparison.Ordinal) && !kv.Key.Contains("seconds", StringComparison.Ordinal))
        .OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value:R}"));

    private static List<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();

    /// <summary>How many runs under <paramref name="outDir"/> have a complete checkpoint.</summary>
    /// <summary>
    /// Reads the host's output in the background and waits (up to 3 minutes) until both runs of the plan have a
    /// checkpoint; fails if the plan ends before <paramref name="before"/> could happen.
    /// </summary>
    private static async Task<(Task<string> Stdout, Task<string> Stderr)> UntilBothRunsCheckpointed(System.Diagnostics.Process p, string outDir, string before)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (CheckpointedRuns(outDir) < 2 && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(200);
        if (p.HasExited) Assert.Fail($"the plan ended before {before}: " + await stderr);
        Assert.True(CheckpointedRuns(outDir) == 2, "not both runs checkpointed within 3 minutes");
        return (stdout, stderr);
    }

    private static int CheckpointedRuns(string outDir)
    {
        try
        {
            return !Directory.Exists(outDir) ? 0 : Directory.EnumerateDirectories(outDir, "checkpoints", SearchOption.AllDirectories)
                .Count(d => Directory.EnumerateDirectories(d).Prepend(d).Any(c => Crate.Core.Training.CheckpointStore.FindLatest(c) is not null));
        }
        catch (IOException) { return 0; }   // a checkpoint folder renamed while we looked
    }

    /// <summary>The process ids whose parent is <paramref name="pid"/> (Linux /proc).</summary>
    private static List<int> ChildProcesses(int pid) =>
        Directory.GetDirectories($"/proc/{pid}/task")
            .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(int.Parse).ToList();
}
