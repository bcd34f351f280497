using System.Security.Cryptography;
using Crate.Core.Runtime;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>
/// The host as a user runs it: real plugin loading from built assemblies (the sample plugin through
/// --plugins), the real LiteDB file, real processes killed with SIGKILL.
/// </summary>
[Collection("host processes")]
public class HostEndToEndTests
{
    private static readonly string[] Plugins = ["--plugins", HostProcess.SampleDir];

    private static string[] Smoke(string outDir, params string[] extra) =>
        ["reproduce", "sample", "--preset", "smoke", "--threads", "1", "--out", outDir, .. Plugins, .. extra];

    [Fact]
    public void ListShowsThePluginAndWhereItWasLoadedFrom()
    {
        var r = HostProcess.Run(["list", .. Plugins]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("sample: Sample plugin", r.Stdout);
        Assert.Contains(Path.Combine(HostProcess.SampleDir, "Crate.Plugins.Sample.dll"), r.Stdout);
        Assert.Contains("presets  smoke, small, paper", r.Stdout);

        var models = HostProcess.Run(["list", "models", .. Plugins]);
        Assert.True(models.ExitCode == 0, models.ToString());
        Assert.Matches(@"sample\s+crate\s+sample-small\s+[\d,]+", models.Stdout);
    }

    [Fact]
    public void ReproduceWritesTheDatabaseAndReportPrintsIt()
    {
        var outDir = HostProcess.TempDir("reproduce");
        var r = HostProcess.Run(Smoke(outDir, "--seeds", "0,1"));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Plan: 4 run(s)", r.Stdout);
        Assert.Contains("All runs succeeded", r.Stdout);

        using (var store = ResultsStore.Open(outDir))
        {
            var runs = store.Runs("sample");
            Assert.Equal(4, runs.Count);
            Assert.All(runs, run => Assert.Equal(RunStatus.Finished, run.Status));
            Assert.All(runs, run => Assert.InRange(run.Metrics["accuracy"], 0, 100));
            Assert.All(runs, run => Assert.NotEmpty(store.Epochs(run.Id)));
            var crate = runs.First(x => x.Model == "crate");
            Assert.Contains(store.WhiteBox(crate.Id), w => w.Measure == "Rc");
            Assert.True(File.Exists(Path.Combine(crate.RunDirectory, "config.json")));
            Assert.Contains("\"kind\":\"final\"", File.ReadAllText(Path.Combine(crate.RunDirectory, "metrics.jsonl")));
            Assert.False(string.IsNullOrEmpty(crate.Environment.TorchSharp));
        }

        var csv = HostProcess.Run(["report", "--format", "csv", "--out", outDir]);
        Assert.True(csv.ExitCode == 0, csv.ToString());
        Assert.Contains("sample", csv.Stdout);
        Assert.Contains("accuracy", csv.Stdout);

        var md = HostProcess.Run(["report", "--format", "md", "--out", outDir]);
        Assert.True(md.ExitCode == 0, md.ToString());
        Assert.Contains("## Task `sample`", md.Stdout);
        Assert.Contains("±", md.Stdout);

        // The same command again skips every finished run.
        var again = HostProcess.Run(Smoke(outDir, "--seeds", "0,1"));
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(4, again.Stdout.Split('\n').Count(l => l.StartsWith("[skip]")));
    }

    [Fact]
    public void KilledInPhaseTwoResumesPhaseTwoAndTheDatabaseHoldsEveryRowOfBoth()
    {
        // The sample trains in two phases (pretrain, then finetune). SIGKILL once the finetune phase has checkpointed;
        // the rerun must not train phase 1 again (its rows are written once, its checkpoint folder is untouched) and
        // must finish phase 2 from its checkpoint, with two evaluations per epoch (eval_every) kept as separate rows.
        var outDir = HostProcess.TempDir("phases");
        string[] args = ["reproduce", "sample", "--preset", "smoke", "--models", "crate", "--seeds", "0", "--threads", "1",
            "--set", "train.eval_every=4", "--set", "finetune.epochs=1000", "--set", "finetune.eval_every=400", "--set", "finetune.checkpoint_every=50", "--out", outDir, .. Plugins];
        string runDir;
        using (var p = HostProcess.Start(args))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!PhaseCheckpointed(outDir, "finetune") && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(100);
            if (p.HasExited) Assert.Fail("the run ended before it could be killed: " + p.StandardError.ReadToEnd());
            Assert.True(PhaseCheckpointed(outDir, "finetune"), "no finetune checkpoint within 2 minutes");
            p.Kill(entireProcessTree: true);   // SIGKILL
            p.WaitForExit();
        }
        List<(string Phase, long Step)> before;
        string[] pretrainCheckpoints;
        using (var store = ResultsStore.Open(outDir))
        {
            var run = Assert.Single(store.Runs());
            Assert.Equal(RunStatus.Running, run.Status);
            runDir = run.RunDirectory;
            before = store.Epochs(run.Id).Select(e => (e.Phase, e.Step)).ToList();
            pretrainCheckpoints = Directory.GetDirectories(Path.Combine(runDir, "checkpoints", "pretrain"));
        }
        // smoke: 256 samples, batch 32 → 8 steps per epoch, 2 epochs; eval every 4 steps → rows at 4, 8, 12, 16.
        Assert.Equal([("pretrain", 4L), ("pretrain", 8L), ("pretrain", 12L), ("pretrain", 16L)], before.Where(r => r.Phase == "pretrain"));
        var pretrainWrites = File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Count(l => l.Contains("\"phase\":\"pretrain\""));

        var r = HostProcess.Run(args, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("[resume] sample/crate seed 0", r.Stdout);
        using var after = ResultsStore.Open(outDir);
        var finished = Assert.Single(after.Runs());
        Assert.Equal(RunStatus.Finished, finished.Status);
        var rows = after.Epochs(finished.Id);
        // finetune: 64 samples, batch 16 → 4 steps per epoch, 1000 epochs → 4,000 steps, a row every 400.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => ("finetune", 400L * i)), rows.Where(e => e.Phase == "finetune").Select(e => (e.Phase, e.Step)));
        Assert.Equal(before.Where(e => e.Phase == "pretrain"), rows.Where(e => e.Phase == "pretrain").Select(e => (e.Phase, e.Step)));
        Assert.Equal(pretrainWrites, File.ReadAllLines(Path.Combine(runDir, "metrics.jsonl")).Count(l => l.Contains("\"phase\":\"pretrain\"")));
        Assert.Equal(pretrainCheckpoints, Directory.GetDirectories(Path.Combine(runDir, "checkpoints", "pretrain")));
        Assert.True(finished.Metrics.ContainsKey("pretrain_accuracy") && finished.Metrics.ContainsKey("accuracy"));

        var curves = HostProcess.Run(["report", "--curves", "--format", "csv", "--out", outDir]);
        Assert.True(curves.ExitCode == 0, curves.ToString());
        var lines = curves.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("run_key,task,preset,model,role,seed,phase,step,epoch,metric,value", lines[0]);
        Assert.Contains(lines, l => l.Contains(",pretrain,12,2,accuracy,"));
        Assert.Contains(lines, l => l.Contains(",finetune,4000,1000,accuracy,"));
        var md = HostProcess.Run(["report", "--curves", "--out", outDir]);
        Assert.Equal(2, md.ExitCode);
    }

    private static bool PhaseCheckpointed(string outDir, string phase)
    {
        try
        {
            return Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, "checkpoints", SearchOption.AllDirectories)
                .Any(d => Crate.Core.Training.CheckpointStore.FindLatest(Path.Combine(d, phase)) is not null);
        }
        catch (IOException) { return false; }
    }

    [Fact]
    public void KilledRunResumesFromItsCheckpointAndTheDatabaseStaysIntact()
    {
        var outDir = HostProcess.TempDir("kill");
        string[] args = ["reproduce", "sample", "--preset", "small", "--models", "crate", "--seeds", "0", "--threads", "1",
            "--set", "train.epochs=40", "--set", "train.checkpoint_every=5", "--out", outDir, .. Plugins];
        using (var p = HostProcess.Start(args))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!Checkpointed(outDir) && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(200);
            if (p.HasExited) Assert.Fail("the run ended before it could be killed: " + p.StandardError.ReadToEnd());
            Assert.True(Checkpointed(outDir), "no checkpoint within 2 minutes");
            p.Kill(entireProcessTree: true);   // SIGKILL
            p.WaitForExit();
        }
        using (var store = ResultsStore.Open(outDir))
            Assert.Equal(RunStatus.Running, Assert.Single(store.Runs()).Status);

        var r = HostProcess.Run(args, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("[resume] sample/crate seed 0", r.Stdout);
        Assert.Contains("finished (resumed)", r.Stdout);
        using var after = ResultsStore.Open(outDir);
        var run = Assert.Single(after.Runs());
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal(2, run.Attempts);
        Assert.Equal(40, after.Epochs(run.Id).Max(e => e.Epoch));
    }

    [Fact]
    public async Task CtrlCOrSigtermStopsAtAStepBoundaryKeepsACheckpointAndTheRerunResumes()
    {
        var outDir = HostProcess.TempDir("sigint");
        string[] args = ["reproduce", "sample", "--preset", "small", "--models", "crate", "--seeds", "0", "--threads", "1",
            "--set", "train.epochs=40", "--set", "train.checkpoint_every=5", "--out", outDir, .. Plugins];
        using (var p = HostProcess.Start(args))
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!Checkpointed(outDir) && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(200);
            if (p.HasExited) Assert.Fail("the run ended before Ctrl-C: " + p.StandardError.ReadToEnd());
            // A process started from a background job inherits SIGINT ignored (POSIX); then the same stop
            // path is exercised through SIGTERM, which the host handles like Ctrl-C.
            var signal = SigIntIgnored() ? "-TERM" : "-INT";
            using (var kill = System.Diagnostics.Process.Start("kill", [signal, p.Id.ToString()])) kill.WaitForExit();
            Assert.True(p.WaitForExit(60_000), "no exit within a minute of SIGINT");
            Assert.Equal(130, p.ExitCode);
            Assert.Contains("Interrupted: rerun the same command to resume.", await stdout);
        }
        using (var store = ResultsStore.Open(outDir))
        {
            var run = Assert.Single(store.Runs());
            Assert.Equal(RunStatus.Interrupted, run.Status);
            Assert.NotNull(Crate.Core.Training.CheckpointStore.FindLatest(Path.Combine(run.RunDirectory, "checkpoints", "pretrain")));
        }
        var r = HostProcess.Run(args, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("[resume] sample/crate seed 0", r.Stdout);
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status), as children of background jobs do.</summary>
    internal static bool SigIntIgnored()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 0b10) != 0;
    }

    /// <summary>Whether a run under <paramref name="outDir"/> has a complete checkpoint (not just a half-written one).</summary>
    private static bool Checkpointed(string outDir)
    {
        try
        {
            return Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, "checkpoints", SearchOption.AllDirectories)
                .SelectMany(d => Directory.EnumerateDirectories(d).Prepend(d))        // checkpoints/ and checkpoints/<phase>/
                .Any(d => Crate.Core.Training.CheckpointStore.FindLatest(d) is not null);
        }
        catch (IOException) { return false; }   // a checkpoint folder renamed while we looked
    }

    [Fact]
    public void TheHostReExecutesItselfUnderJemallocWhenItIsInstalled()
    {
        bool installed = Crate.Core.Runtime.NativeAllocator.SearchFolders.Any(f => File.Exists(Path.Combine(f, "libjemalloc.so.2")));
        var outDir = HostProcess.TempDir("allocator");
        var r = HostProcess.Run(Smoke(outDir, "--seeds", "0", "--models", "crate"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var system = HostProcess.TempDir("allocator-system");
        var s = HostProcess.Run(Smoke(system, "--seeds", "0", "--models", "crate"), env: new Dictionary<string, string> { ["CRATE_ALLOCATOR"] = "system" });
        Assert.True(s.ExitCode == 0, s.ToString());
        using (var store = ResultsStore.Open(outDir))
            Assert.Equal(installed ? "jemalloc" : "glibc", Assert.Single(store.Runs()).Environment.Allocator);
        using (var store = ResultsStore.Open(system))
            Assert.Equal("glibc", Assert.Single(store.Runs()).Environment.Allocator);
        if (!installed) Assert.Contains("apt-get install libjemalloc2", r.Stderr);
    }

    [Fact]
    public void CorruptDatabaseIsOneErrorLineAndIsNotModified()
    {
        var outDir = HostProcess.TempDir("corrupt");
        var db = Path.Combine(outDir, "results.db");
        var garbage = new byte[20000];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(db, garbage);
        var before = SHA256.HashData(File.ReadAllBytes(db));

        var r = HostProcess.Run(Smoke(outDir));
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: results database", line);
        Assert.Contains("corrupt", line);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(db)));
    }

    [Fact]
    public void MissingDataFolderFailsBeforeAnythingRuns()
    {
        var outDir = HostProcess.TempDir("nodata");
        var missing = Path.Combine(outDir, "no-such-folder");
        var r = HostProcess.Run(Smoke(outDir, "--set", "data.source=csv", "--data", $"subspaces={missing}"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"error: data folder for 'subspaces' does not exist: {missing}", r.Stderr);
        Assert.False(File.Exists(Path.Combine(outDir, "results.db")));

        var unnamed = HostProcess.Run(Smoke(outDir, "--set", "data.source=csv"));
        Assert.Equal(2, unnamed.ExitCode);
        Assert.Contains("no data folder for 'subspaces'", unnamed.Stderr);
    }

    [Theory]
    [InlineData("model.dept=3", "unknown config key 'model.dept'", "model.depth")]
    [InlineData("model.depth=three", "'model.depth'", "an integer in [1, 256]")]
    [InlineData("train.optimizer=sgd", "'train.optimizer'", "one of adamw, lion")]
    public void BadSetIsRejectedBeforeAnythingRuns(string set, string names, string allowed)
    {
        var outDir = HostProcess.TempDir("badset");
        var r = HostProcess.Run(Smoke(outDir, "--set", set));
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(names, line);
        Assert.Contains(allowed, line);
        Assert.False(File.Exists(Path.Combine(outDir, "results.db")));
    }

    [Fact]
    public void AnotherModelsCheckpointIsBadInputNotAnInternalError()
    {
        // A CRATE state_dict evaluated as the ViT baseline: the plugin's own checkpoint error derives from the
        // contract's BadInputException, so the host prints one line and exits 2 (it exited 3 before).
        var pth = Path.Combine(HostProcess.RepoRoot, "tests", "Crate.Tests", "Fixtures", "crate_fixture.pth");
        var r = HostProcess.Run(["evaluate", "vit", "--model", "vit", "--checkpoint", pth, "--preset", "smoke"]);
        Assert.True(r.ExitCode == 2, r.ToString());
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("crate_fixture.pth", line);
    }

    [Theory]
    [InlineData("model.pth")]
    [InlineData("model.safetensors")]
    public void ACorruptCheckpointIsBadInputNamingTheFile(string name)
    {
        var dir = HostProcess.TempDir("corrupt-checkpoint");
        string file = Path.Combine(dir, name);
        File.WriteAllText(file, "this is not a checkpoint");
        var r = HostProcess.Run(["evaluate", "vit", "--model", "crate", "--checkpoint", file, "--preset", "smoke"]);
        Assert.True(r.ExitCode == 2, r.ToString());
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(file, line);
    }

    [Fact]
    public void BrokenPluginIsReportedAndTheOthersStillRun()
    {
        var broken = HostProcess.TempDir("broken-plugin");
        foreach (var f in Directory.GetFiles(HostProcess.SampleDir))
            File.Copy(f, Path.Combine(broken, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(broken, "Crate.Plugins.Sample.dll"), "this is not an assembly");

        var list = HostProcess.Run(["list", "--plugins", broken]);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains($"FAILED {Path.Combine(broken, "Crate.Plugins.Sample.dll")}: cannot load assembly", list.Stdout);

        var outDir = HostProcess.TempDir("with-broken");
        var r = HostProcess.Run(["reproduce", "sample", "--preset", "smoke", "--seeds", "0", "--models", "crate", "--threads", "1",
            "--out", outDir, "--plugins", broken, .. Plugins]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("warning: plugin", r.Stderr);
        Assert.Contains("not loaded", r.Stderr);
    }

    [Fact]
    public void AFailingRunIsNamedAndTheOthersAreKept()
    {
        var outDir = HostProcess.TempDir("failing");
        // 3 heads do not divide width 16: the crate and transformer runs both fail at build time,
        // while an earlier good run stays in the database. The task finds it only inside Run, a ConfigException: bad
        // input, so the invocation ends as every bad input does, exit 2 with one error line; the runs are named on stdout.
        var good = HostProcess.Run(Smoke(outDir, "--seeds", "0", "--models", "crate"));
        Assert.True(good.ExitCode == 0, good.ToString());
        var r = HostProcess.Run(Smoke(outDir, "--seeds", "0", "--set", "model.heads=3"));
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.DoesNotContain("[retry]", r.Stdout);                        // bad input is not libtorch's error: no retry
        Assert.Contains("[failed] sample/crate seed 0: config key 'model.heads': 3 does not divide model.dim", r.Stdout);
        Assert.Contains("[failed] sample/transformer seed 0", r.Stdout);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("error: config key 'model.heads': 3 does not divide model.dim = 16", line.TrimEnd('\r'));
        using var store = ResultsStore.Open(outDir);
        Assert.Contains(store.Runs(), x => x.Status == RunStatus.Finished);
        Assert.Equal(2, store.Runs().Count(x => x.Status == RunStatus.Failed));
    }

    [Fact]
    public void ARunThatLibTorchFailsResumesOnceFromItsCheckpointAndEndsAsIfUninterrupted()
    {
        string[] Args(string outDir) => Smoke(outDir, "--seeds", "0", "--models", "crate");
        var plainDir = HostProcess.TempDir("libtorch-plain");
        var plain = HostProcess.Run(Args(plainDir));
        Assert.True(plain.ExitCode == 0, plain.ToString());

        // The first checkpoint in place, then a libtorch-like error (TorchSharp's ExternalException) out of the trainer.
        var outDir = HostProcess.TempDir("libtorch-retry");
        var r = HostProcess.Run(Args(outDir), env: new Dictionary<string, string> { [FaultPoints.ThrowVariable] = "checkpoint-written:1" });
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("[failed] sample/crate seed 0: ExternalException: chaos: libtorch-like error injected at 'checkpoint-written' (hit 1)", r.Stdout);
        Assert.Contains("[retry] sample/crate seed 0: libtorch failed it (ExternalException: chaos: libtorch-like error injected at " +
                        "'checkpoint-written' (hit 1)); resuming it from its last checkpoint, retry 1 of 1", r.Stdout);
        Assert.Contains("[resume] sample/crate seed 0", r.Stdout);

        using var store = ResultsStore.Open(outDir);
        var run = Assert.Single(store.Runs());
        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal(2, run.Attempts);
        Assert.Null(run.Error);
        using var plainStore = ResultsStore.Open(plainDir);
        var reference = Assert.Single(plainStore.Runs());
        Assert.Equal(reference.Id, run.Id);
        // A resume at a checkpoint continues the same trajectory: the same numbers as the run that never failed.
        foreach (var (name, value) in reference.Metrics.Where(kv => !kv.Key.EndsWith("_per_s", StringComparison.Ordinal) && !kv.Key.EndsWith("_seconds", StringComparison.Ordinal)))
            Assert.True(run.Metrics[name] == value, $"{name}: {run.Metrics[name]} after the retry, {value} uninterrupted");
        Assert.Contains("the run failed: ExternalException: chaos", File.ReadAllText(Path.Combine(run.RunDirectory!, "run.log")));
    }
}
