using Crate.Core.Training;
using Crate.Host.Running;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>
/// The event files a real <c>reproduce</c> writes (the sample plugin: two phases, white-box rows), read back with
/// <see cref="TensorBoardEvents"/> and compared with the results database: every evaluation row's values at its step,
/// every optimizer step once, the white-box rows per layer, the final metrics; also after a SIGKILL and resume.
/// </summary>
[Collection("host processes")]
public class TensorBoardEndToEndTests
{
    private static readonly string[] Plugins = ["--plugins", HostProcess.SampleDir];

    [Fact]
    public void Job_processes_write_each_run_s_events_and_they_match_the_database()
    {
        var outDir = HostProcess.TempDir("tb-jobs");
        var r = HostProcess.Run(["reproduce", "sample", "--preset", "smoke", "--seeds", "0,1", "--jobs", "2", "--threads", "2",
            "--set", "train.eval_every=4", "--out", outDir, .. Plugins]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("2 jobs at once", r.Stdout);

        using var store = ResultsStore.Open(outDir);
        var runs = store.Runs();
        Assert.Equal(4, runs.Count);
        foreach (var run in runs)
        {
            Assert.Single(TensorBoardEvents.Files(run.RunDirectory));
            AssertMatchesDatabase(store, run);
        }
    }

    [Fact]
    public void A_run_killed_in_its_second_phase_resumes_on_the_same_step_axes_without_a_point_twice()
    {
        var outDir = HostProcess.TempDir("tb-kill");
        string[] args = ["reproduce", "sample", "--preset", "smoke", "--models", "crate", "--seeds", "0", "--threads", "1",
            "--set", "finetune.epochs=300", "--set", "finetune.eval_every=100", "--set", "finetune.checkpoint_every=50", "--out", outDir, .. Plugins];
        using (var p = HostProcess.Start(args))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!FinetuneCheckpointed(outDir) && DateTime.UtcNow < deadline && !p.HasExited) Thread.Sleep(50);
            if (p.HasExited) Assert.Fail("the run ended before it could be killed: " + p.StandardError.ReadToEnd());
            Assert.True(FinetuneCheckpointed(outDir), "no finetune checkpoint within 2 minutes");
            p.Kill(entireProcessTree: true);   // SIGKILL: the events file may end in a torn record
            p.WaitForExit();
        }
        string runDir;
        long killedAt;
        using (var store = ResultsStore.Open(outDir))
        {
            var run = Assert.Single(store.Runs());
            Assert.Equal(RunStatus.Running, run.Status);
            runDir = run.RunDirectory;
        }
        // What the killed attempt logged (the reader stops before a torn last record).
        var before = TensorBoardEvents.Files(runDir).SelectMany(f => TensorBoardEvents.Read(f).Events)
            .SelectMany(e => e.Values.Select(v => (v.Tag, e.Step))).ToList();
        killedAt = before.Where(p => p.Tag == "finetune/step/loss").Select(p => p.Step).DefaultIfEmpty(0).Max();
        Assert.True(killedAt > 0, "the killed attempt logged no finetune step");

        var r = HostProcess.Run(args, TimeSpan.FromMinutes(5));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("[resume] sample/crate seed 0", r.Stdout);

        using var after = ResultsStore.Open(outDir);
        var finished = Assert.Single(after.Runs());
        Assert.Equal(RunStatus.Finished, finished.Status);
        Assert.Equal(2, TensorBoardEvents.Files(runDir).Count);   // one file per attempt
        AssertMatchesDatabase(after, finished);
        var finetuneSteps = TensorBoardLogTests.Points(runDir).Where(p => p.Tag == "finetune/step/loss").Select(p => p.Step).ToList();
        Assert.Equal(Enumerable.Range(1, finetuneSteps.Count).Select(s => (long)s), finetuneSteps);
        Assert.True(finetuneSteps.Count > killedAt, "the resumed attempt logged no step after the kill");
    }

    [Fact]
    public void The_flag_or_the_environment_variable_turns_the_event_files_off()
    {
        var flag = HostProcess.TempDir("tb-flag");
        var r = HostProcess.Run(["reproduce", "sample", "--preset", "smoke", "--models", "crate", "--seeds", "0", "--threads", "1",
            "--no-tensorboard", "--out", flag, .. Plugins]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var variable = HostProcess.TempDir("tb-env");
        var e = HostProcess.Run(["reproduce", "sample", "--preset", "smoke", "--models", "crate", "--seeds", "0", "--threads", "1",
            "--out", variable, .. Plugins], env: new Dictionary<string, string> { [TensorBoardLog.EnvironmentVariable] = "0" });
        Assert.True(e.ExitCode == 0, e.ToString());
        foreach (var outDir in new[] { flag, variable })
        {
            using var store = ResultsStore.Open(outDir);
            var run = Assert.Single(store.Runs());
            Assert.Equal(RunStatus.Finished, run.Status);
            Assert.Empty(TensorBoardEvents.Files(run.RunDirectory));
        }
    }

    /// <summary>
    /// Every value the database holds for <paramref name="run"/> is in its event files at the same step (as float32), and
    /// the files hold no step the database does not (evaluation rows), each optimizer step of each phase exactly once
    /// (1 … its last row's step), the white-box rows with the layer as the step, and the final metrics.
    /// </summary>
    private static void AssertMatchesDatabase(ResultsStore store, RunRecord run)
    {
        var points = TensorBoardLogTests.Points(run.RunDirectory);
        Assert.Equal(points.Count, points.Select(p => (p.Tag, p.Step)).Distinct().Count());
        var byKey = points.ToDictionary(p => (p.Tag, p.Step), p => p.Value);

        var rows = store.Epochs(run.Id);
        Assert.NotEmpty(rows);
        foreach (var row in rows)
            foreach (var (metric, value) in row.Metrics)
                Assert.Equal((float)value, byKey[($"{row.Phase}/{metric}", row.Step)]);
        var rowTags = rows.SelectMany(row => row.Metrics.Keys.Select(m => $"{row.Phase}/{m}")).ToHashSet();
        Assert.Equal(rows.SelectMany(row => row.Metrics.Keys.Select(m => ($"{row.Phase}/{m}", row.Step))).Order(),
            points.Where(p => rowTags.Contains(p.Tag)).Select(p => (p.Tag, p.Step)).Order());

        foreach (var phase in rows.GroupBy(row => row.Phase))
        {
            var steps = points.Where(p => p.Tag == $"{phase.Key}/step/loss").Select(p => p.Step).ToList();
            Assert.Equal(Enumerable.Range(1, (int)phase.Max(row => row.Step)).Select(s => (long)s), steps);
            Assert.Equal(steps, points.Where(p => p.Tag == $"{phase.Key}/step/lr").Select(p => p.Step));
        }

        var whiteBox = store.WhiteBox(run.Id);
        Assert.Equal(run.Role == Crate.Core.Contract.ModelRole.Crate, whiteBox.Count > 0);
        foreach (var w in whiteBox)
            Assert.Equal((float)w.Mean, byKey[($"whitebox/{w.Split}/{w.Measure}", w.Layer)]);
        Assert.Equal(whiteBox.Count, points.Count(p => p.Tag.StartsWith("whitebox/", StringComparison.Ordinal)));

        foreach (var (metric, value) in run.Metrics)
            Assert.Equal((float)value, Assert.Single(points, p => p.Tag == $"final/{metric}").Value);
    }

    private static bool FinetuneCheckpointed(string outDir)
    {
        try
        {
            return Directory.Exists(outDir) && Directory.EnumerateDirectories(outDir, "checkpoints", SearchOption.AllDirectories)
                .Any(d => CheckpointStore.FindLatest(Path.Combine(d, "finetune")) is not null);
        }
        catch (IOException) { return false; }
    }
}
