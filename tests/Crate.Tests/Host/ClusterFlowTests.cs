using System.Diagnostics;
using System.Text;
using Crate.Core.Training;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>
/// What deploy/slurm/reproduce.sbatch and deploy/k8s/reproduce-job.yaml do, on this machine: n shard processes
/// started at once, each into its own folder; one killed with SIGKILL and started again (the scheduler's retry);
/// then <c>merge</c>. The merged database must hold what one process running the whole plan writes.
/// </summary>
[Collection("host processes")]
public class ClusterFlowTests
{
    private const int Shards = 2;

    // Smoke preset, two seeds: 4 runs, 2 per shard. A longer finetune phase (200 epochs × 4 steps, a checkpoint
    // every 50 steps) leaves time to kill a shard in the middle of a run.
    private static string[] Reproduce(string outDir, params string[] extra) =>
    [
        "reproduce", "sample", "--preset", "smoke", "--seeds", "0,1", "--threads", "1",
        "--set", "finetune.epochs=200", "--set", "finetune.checkpoint_every=50", "--out", outDir,
        "--plugins", HostProcess.SampleDir, .. extra,
    ];

    // Timings differ between processes; everything else must be identical.
    private static readonly HashSet<string> Timings = ["samples_per_s", "train_seconds"];

    [Fact]
    public void ShardsStartedAtOnceOneKilledAndRetriedMergeToTheSingleProcessResult()
    {
        var root = HostProcess.TempDir("cluster");
        var shardDirs = Enumerable.Range(0, Shards).Select(i => Path.Combine(root, "shards", i.ToString())).ToArray();
        var shards = Enumerable.Range(0, Shards)
            .Select(i => Collected.Start(Reproduce(shardDirs[i], "--shard", $"{i}/{Shards}"))).ToArray();

        // The scheduler loses the node of shard 1 mid-run: SIGKILL once it has written a checkpoint.
        var victim = shards[1];
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!HasCheckpoint(shardDirs[1]) && !victim.Process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.False(victim.Process.HasExited, "shard 1 ended before it could be killed: " + victim);
        Assert.True(HasCheckpoint(shardDirs[1]), "shard 1 wrote no checkpoint within 3 minutes");
        victim.Process.Kill(entireProcessTree: true);   // SIGKILL
        victim.Process.WaitForExit();
        using (var store = ResultsStore.Open(shardDirs[1]))
            Assert.Contains(store.Runs(), r => r.Status == RunStatus.Running);

        // The retry: the same command on the same folder.
        var retry = HostProcess.Run(Reproduce(shardDirs[1], "--shard", $"1/{Shards}"), TimeSpan.FromMinutes(5));
        Assert.True(retry.ExitCode == 0, retry.ToString());
        Assert.Contains("[resume]", retry.Stdout);
        var first = shards[0].WaitForExit(TimeSpan.FromMinutes(5));
        Assert.True(first == 0, shards[0].ToString());

        var single = Path.Combine(root, "single");
        var whole = HostProcess.Run(Reproduce(single), TimeSpan.FromMinutes(5));
        Assert.True(whole.ExitCode == 0, whole.ToString());

        var mergedDir = Path.Combine(root, "merged");
        var merge = HostProcess.Run(["merge", .. shardDirs, "--out", mergedDir]);
        Assert.True(merge.ExitCode == 0, merge.ToString());
        var expected = Contents(single);
        Assert.Equal(4, expected.Runs.Count);
        AssertSame(expected, Contents(mergedDir));

        // Merging the same shards again (a re-submitted merge job) changes nothing.
        var again = HostProcess.Run(["merge", .. shardDirs, "--out", mergedDir]);
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(Shards, again.Stdout.Split('\n').Count(l => l.EndsWith(": 0 run(s) merged")));
        AssertSame(expected, Contents(mergedDir));
    }

    [Fact]
    public void MergeNamesACorruptShardSkipsItMergesTheRestAndExitsOne()
    {
        var root = HostProcess.TempDir("merge-corrupt");
        var good = Path.Combine(root, "0");
        var run = HostProcess.Run(["reproduce", "sample", "--preset", "smoke", "--seeds", "0", "--models", "crate", "--threads", "1",
            "--out", good, "--plugins", HostProcess.SampleDir]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var bad = Path.Combine(root, "1");
        Directory.CreateDirectory(bad);
        var bytes = File.ReadAllBytes(Path.Combine(good, ResultsStore.FileName));
        Array.Resize(ref bytes, bytes.Length - 3000);   // cut off mid-page, as a full disk or a lost node leaves it
        File.WriteAllBytes(Path.Combine(bad, ResultsStore.FileName), bytes);
        var missing = Path.Combine(root, "2");

        var mergedDir = Path.Combine(root, "merged");
        var merge = HostProcess.Run(["merge", bad, good, missing, "--out", mergedDir]);
        Assert.Equal(1, merge.ExitCode);
        Assert.Contains($"error: skipped {Path.Combine(bad, ResultsStore.FileName)}: results database", merge.Stderr);
        Assert.Contains($"error: skipped {missing}", merge.Stderr);
        Assert.Contains($"{Path.Combine(good, ResultsStore.FileName)}: 1 run(s) merged", merge.Stdout);
        using var store = ResultsStore.Open(mergedDir);
        Assert.Equal(RunStatus.Finished, Assert.Single(store.Runs()).Status);
    }

    [Fact]
    public async Task TheSlurmScriptsRunAsAnArrayOnThisMachineAndMerge()
    {
        // deploy/slurm/*.sbatch run by bash with the variables Slurm sets for array tasks 1 and 2 of --array=1-2
        // (so the host's --shard auto must take the index relative to SLURM_ARRAY_TASK_MIN), both at once, then the
        // merge script. deploy/slurm/test-cluster runs them under real Slurm daemons.
        var results = HostProcess.TempDir("slurm");
        var env = new Dictionary<string, string>
        {
            ["CRATE_RESULTS"] = results, ["CRATE"] = $"dotnet {Path.Combine(HostProcess.HostDir, "crate.dll")}", ["CRATE_DEVICE"] = "cpu",
            ["CRATE_TASKS"] = "sample", ["CRATE_ARGS"] = $"--preset smoke --seeds 0 --plugins {HostProcess.SampleDir}",
            ["SLURM_ARRAY_JOB_ID"] = "4242", ["SLURM_ARRAY_TASK_MIN"] = "1", ["SLURM_ARRAY_TASK_MAX"] = "2", ["SLURM_ARRAY_TASK_STEP"] = "1",
            ["SLURM_ARRAY_TASK_COUNT"] = "2", ["SLURM_CPUS_PER_TASK"] = "1",
        };
        Process StartArrayTask(int id)
        {
            var psi = new ProcessStartInfo("bash", [Path.Combine(HostProcess.RepoRoot, "deploy", "slurm", "reproduce.sbatch")])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = HostProcess.RepoRoot,
            };
            foreach (var (k, v) in env) psi.Environment[k] = v;
            psi.Environment["SLURM_ARRAY_TASK_ID"] = id.ToString();
            psi.Environment.Remove("CRATE_OUT");
            return Process.Start(psi)!;
        }
        using var first = StartArrayTask(1);
        using var second = StartArrayTask(2);
        foreach (var (p, shard) in new[] { (first, 0), (second, 1) })
        {
            var text = p.StandardOutput.ReadToEndAsync();
            var err = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "an array task did not finish");
            var stdout = await text;
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}\n{stdout}\n{err}");
            Assert.Contains($"Shard {shard}/2 (Slurm array job 4242 task {shard + 1} of 1-2)", stdout);
            Assert.Contains($"results in {Path.Combine(results, "shards", shard.ToString())}", stdout);
        }
        foreach (var shard in new[] { "0", "1" })
            using (var store = ResultsStore.Open(Path.Combine(results, "shards", shard)))
                Assert.Equal(RunStatus.Finished, Assert.Single(store.Runs()).Status);   // crate and baseline, one each

        var merge = new ProcessStartInfo("bash", [Path.Combine(HostProcess.RepoRoot, "deploy", "slurm", "merge.sbatch")])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = HostProcess.RepoRoot,
        };
        foreach (var (k, v) in env) merge.Environment[k] = v;
        using (var m = Process.Start(merge)!)
        {
            var text = m.StandardOutput.ReadToEndAsync();
            var err = m.StandardError.ReadToEnd();
            m.WaitForExit();
            var stdout = await text;
            Assert.True(m.ExitCode == 0, $"exit {m.ExitCode}\n{stdout}\n{err}");
        }
        using var merged = ResultsStore.Open(Path.Combine(results, "merged"));
        Assert.Equal(["crate", "transformer"], merged.Runs().Select(r => r.Model).Order());
        Assert.Contains("## Task `sample`", File.ReadAllText(Path.Combine(results, "merged", "report.md")));
    }

    /// <summary>Runs (key → status and metrics), rows and white-box rows, without timings, as comparable text.</summary>
    private sealed record DatabaseContents(SortedDictionary<string, string> Runs, SortedDictionary<string, List<string>> Rows);

    private static DatabaseContents Contents(string outDir)
    {
        using var store = ResultsStore.Open(outDir);
        var runs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var rows = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var r in store.Runs())
        {
            runs[r.Id] = $"{r.Task}/{r.Model}/s{r.Seed} {r.Status} {Metrics(r.Metrics)}";
            rows[r.Id] = store.Epochs(r.Id).Select(e => $"{e.Phase} {e.Step} {e.Epoch} {Metrics(e.Metrics)}")
                .Concat(store.WhiteBox(r.Id).Select(w => w.ToString())).ToList();
        }
        return new DatabaseContents(runs, rows);
    }

    private static string Metrics(IReadOnlyDictionary<string, double> metrics) =>
        string.Join(", ", metrics.Where(kv => !Timings.Contains(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key}={kv.Value:R}"));

    private static void AssertSame(DatabaseContents expected, DatabaseContents actual)
    {
        Assert.Equal(expected.Runs, actual.Runs);
        foreach (var (key, rows) in expected.Rows)
        {
            Assert.NotEmpty(rows);
            Assert.Equal(rows, actual.Rows[key]);
        }
    }

    private static bool HasCheckpoint(string outDir)
    {
        try
        {
            return Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, "checkpoints", SearchOption.AllDirectories)
                .SelectMany(d => Directory.EnumerateDirectories(d).Prepend(d))
                .Any(d => CheckpointStore.FindLatest(d) is not null);
        }
        catch (IOException) { return false; }
    }

    /// <summary>A host process whose output is drained while it runs (a full pipe would block it).</summary>
    private sealed class Collected
    {
        private readonly StringBuilder _stdout = new(), _stderr = new();

        private Collected(Process process) => Process = process;

        public Process Process { get; }

        public static Collected Start(string[] args)
        {
            var c = new Collected(HostProcess.Start(args));
            c.Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (c._stdout) c._stdout.AppendLine(e.Data); };
            c.Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (c._stderr) c._stderr.AppendLine(e.Data); };
            c.Process.BeginOutputReadLine();
            c.Process.BeginErrorReadLine();
            return c;
        }

        public int WaitForExit(TimeSpan timeout)
        {
            if (!Process.WaitForExit(timeout))
            {
                Process.Kill(entireProcessTree: true);
                throw new TimeoutException("shard did not finish: " + this);
            }
            Process.WaitForExit();
            return Process.ExitCode;
        }

        public override string ToString()
        {
            lock (_stdout) lock (_stderr) return $"--- stdout\n{_stdout}\n--- stderr\n{_stderr}";
        }
    }
}
