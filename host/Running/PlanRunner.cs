using System.Diagnostics;
using System.Text.Json;
using Crate.Core.Contract;
using Crate.Host.Planning;
using Crate.Results;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Crate.Host.Running;

/// <summary>Options shared by every run of a plan.</summary>
/// <param name="OutDirectory">The results folder.</param>
/// <param name="Device">cpu or cuda.</param>
/// <param name="Threads">Torch intra-op threads (of each job, with <c>--jobs N</c>).</param>
/// <param name="Fresh">Rerun finished runs.</param>
/// <param name="Data">Where datasets are found.</param>
/// <param name="Verbose">Also print each run's <c>info</c> log lines on the terminal (they always go to its run.log).</param>
/// <param name="TensorBoard">Write each run's TensorBoard event files into its run folder while it trains (<see cref="TensorBoardLog"/>).</param>
public sealed record RunnerOptions(string OutDirectory, string Device, int Threads, bool Fresh, DataLocator Data, bool Verbose = false,
    bool TensorBoard = true);

/// <summary>How one planned run ended in this invocation.</summary>
public enum RunOutcomeKind
{
    /// <summary>Already finished in the database; not run again.</summary>
    Skipped,
    /// <summary>Trained (or resumed) to the end.</summary>
    Finished,
    /// <summary>Threw; the cause is recorded.</summary>
    Failed,
    /// <summary>Stopped by Ctrl-C; resumes on the next invocation.</summary>
    Interrupted,
    /// <summary>Not started because the plan was interrupted.</summary>
    NotStarted,
}

/// <summary>One run's outcome.</summary>
public sealed record RunOutcome(PlannedRun Run, RunOutcomeKind Kind, string? Error, TimeSpan Duration, bool Resumed);

/// <summary>
/// Runs a plan run by run on the calling thread. A finished key is skipped, an interrupted or failed
/// key resumes from its last checkpoint, a failing run is recorded and the plan goes on, Ctrl-C stops
/// the run in flight at a step boundary (it checkpoints) and ends the plan.
/// </summary>
public sealed class PlanRunner(ResultsStore store, RunnerOptions options, IRunProgress progress, ILoggerFactory loggers)
{
    private readonly ILogger _log = loggers.CreateLogger("crate");

    /// <summary>Runs the plan; returns one outcome per planned run.</summary>
    /// <exception cref="DiskFullException">The output folder's device filled up; the plan stopped there.</exception>
    public IReadOnlyList<RunOutcome> Run(IReadOnlyList<PlannedRun> plan, CancellationToken cancellation)
    {
        var outcomes = new List<RunOutcome>();
        var code = RunEnvironment.Code();
        for (int i = 0; i < plan.Count; i++)
        {
            var run = plan[i];
            if (cancellation.IsCancellationRequested) { outcomes.Add(new(run, RunOutcomeKind.NotStarted, null, TimeSpan.Zero, false)); continue; }
            progress.StartRun(i + 1, run.Label);
            RunOutcome outcome;
            try { outcome = RunOne(run, code, cancellation); }
            catch (Exception e) when (e is not DiskFullException && DiskFullException.IsCause(e))
            {
                throw new DiskFullException(options.OutDirectory, e);   // before or after training: config.json, the run record
            }
            progress.EndRun(outcome.Kind == RunOutcomeKind.Finished && !outcome.Resumed ? outcome.Duration : null);
            outcomes.Add(outcome);
        }
        return outcomes;
    }

    private RunOutcome RunOne(PlannedRun run, CodeVersion code, CancellationToken cancellation)
    {
        var task = run.Task.Task;
        var runDir = RunDirectory(run);
        var existing = store.GetRun(run.Key);
        if (Skip(options, run, existing, progress) is { } skipped) return skipped;
        if (options.Fresh && Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        if (options.Fresh) existing = null;

        Directory.CreateDirectory(runDir);
        var checkpoints = Path.Combine(runDir, "checkpoints");
        // Only a complete checkpoint counts: a process killed while writing its first one starts over. A run with
        // phases keeps one checkpoint folder per phase (checkpoints/<phase>/), each resuming on its own.
        string? resume = Crate.Core.Training.CheckpointStore.FindLatest(checkpoints);
        bool resumed = resume is not null || (Directory.Exists(checkpoints) &&
            Directory.EnumerateDirectories(checkpoints).Any(d => Crate.Core.Training.CheckpointStore.FindLatest(d) is not null));
        File.WriteAllText(Path.Combine(runDir, "config.json"), ConfigFile(run));

        var record = existing ?? new RunRecord { Id = run.Key, CreatedUtc = DateTime.UtcNow };
        record.Task = task.Name;
        record.Model = run.Model.Name;
        record.Role = run.Model.Role;
        record.Preset = run.Preset;
        record.Seed = run.Seed;
        record.ConfigJson = run.Config.ToJson();
        record.Code = code;
        record.Environment = RunEnvironment.Describe(options.Device, options.Threads);
        record.Status = RunStatus.Running;
        record.Error = null;
        record.Attempts += 1;
        record.StartedUtc = DateTime.UtcNow;
        record.FinishedUtc = null;
        record.RunDirectory = runDir;
        record.Dataset = string.Join(" + ", task.RequiredDatasets(run.Config));
        record.MetricInfo = task.Metrics.Select(MetricInfoRecord.From).ToList();
        record.PaperValues = task.PaperValues.Select(PaperValueRecord.From).ToList();
        record.Claims = task is IPaperClaims claims ? claims.Claims.Select(PaperClaimRecord.From).ToList() : [];
        store.UpsertRun(record);

        progress.Message($"[{(resumed ? "resume" : "run")}] {run.Label} ({run.Preset}, run {run.Key}) -> {runDir}");
        using var logger = new RunLog(Path.Combine(runDir, "run.log"), loggers.CreateLogger($"{task.Name}/{run.Model.Name}/s{run.Seed}"), options.Verbose);
        var context = new HostRunContext(run, options.Device, runDir, resume, store, options.Data, progress, logger, cancellation,
            options.TensorBoard ? TensorBoardLog.Open(runDir, logger) : null, cacheDirectory: Path.Combine(options.OutDirectory, "cache"));
        var clock = Stopwatch.StartNew();
        try
        {
            torch.set_num_threads(options.Threads);
            torch.manual_seed(run.Seed);
            var result = task.Run(context);
            clock.Stop();
            if (result.WhiteBox.Count > 0) store.SetWhiteBox(run.Key, result.WhiteBox);
            context.WriteFinal(result);
            record.Metrics = new Dictionary<string, double>(result.Metrics);
            record.Artifacts = result.Artifacts.Select(ArtifactRecord.From).ToList();
            record.Status = RunStatus.Finished;
            record.FinishedUtc = DateTime.UtcNow;
            record.TrainSeconds += clock.Elapsed.TotalSeconds;
            store.UpsertRun(record);
            progress.Message($"[done] {run.Label} in {ProgressView.Fmt(clock.Elapsed)}: " +
                             string.Join(", ", result.Metrics.Select(kv => $"{kv.Key} {kv.Value:0.####}")));
            return new(run, RunOutcomeKind.Finished, null, clock.Elapsed, resumed);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            record.Status = RunStatus.Interrupted;
            record.Error = "interrupted (Ctrl-C); rerun the same command to resume from the last checkpoint";
            record.TrainSeconds += clock.Elapsed.TotalSeconds;
            store.UpsertRun(record);
            progress.Message($"[interrupted] {run.Label}: checkpoint kept in {checkpoints}");
            return new(run, RunOutcomeKind.Interrupted, record.Error, clock.Elapsed, resumed);
        }
        catch (Exception e) when (DiskFullException.IsCause(e))
        {
            // Record the failure if the database can still take it (a Running record resumes just the same), then stop the plan.
            record.Status = RunStatus.Failed;
            record.Error = Cause(e);
            record.TrainSeconds += clock.Elapsed.TotalSeconds;
            try { store.UpsertRun(record); }
            catch (Exception again) when (DiskFullException.IsCause(again)) { }
            _log.LogDebug(e, "run {Run} failed: disk full", run.Label);
            progress.Message($"[failed] {run.Label}: no space left on device; last good checkpoint kept in {checkpoints}");
            throw new DiskFullException(options.OutDirectory, e);
        }
        catch (Exception e)
        {
            var cause = Cause(e);
            record.Status = RunStatus.Failed;
            record.Error = cause;
            record.TrainSeconds += clock.Elapsed.TotalSeconds;
            store.UpsertRun(record);
            _log.LogDebug(e, "run {Run} failed", run.Label);
            progress.Message($"[failed] {run.Label}: {cause}");
            return new(run, RunOutcomeKind.Failed, cause, clock.Elapsed, resumed);
        }
    }

    /// <summary>
    /// The Skipped outcome (and its [skip] line) when <paramref name="existing"/>, the run's record, finished earlier and
    /// <see cref="RunnerOptions.Fresh"/> is off; otherwise null. <see cref="JobPool"/> asks it before starting a job.
    /// </summary>
    public static RunOutcome? Skip(RunnerOptions options, PlannedRun run, RunRecord? existing, IRunProgress progress)
    {
        if (existing is not { Status: RunStatus.Finished } || options.Fresh) return null;
        progress.Message($"[skip] {run.Label}: finished earlier (run {run.Key})");
        return new(run, RunOutcomeKind.Skipped, null, TimeSpan.Zero, false);
    }

    /// <summary>&lt;out&gt;/&lt;task&gt;/&lt;model&gt;/seed&lt;N&gt;-&lt;key&gt;.</summary>
    public string RunDirectory(PlannedRun run) =>
        Path.Combine(options.OutDirectory, run.Task.Task.Name, run.Model.Name, $"seed{run.Seed}-{run.Key}");

    private static string ConfigFile(PlannedRun run)
    {
        using var doc = JsonDocument.Parse(run.Config.ToJson());
        return JsonSerializer.Serialize(new
        {
            key = run.Key, task = run.Task.Task.Name, model = run.Model.Name, preset = run.Preset, seed = run.Seed,
            config = doc.RootElement,
        }, new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The innermost meaningful message of an exception, with its type.</summary>
    public static string Cause(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException or TypeInitializationException
               && e.InnerException is not null)
            e = e.InnerException;
        return $"{e.GetType().Name}: {e.Message}";
    }
}
