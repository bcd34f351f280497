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
/// <param name="Wait">A run another attempt holds (its lease is alive) is waited for, after the other runs, instead of skipped.</param>
/// <param name="LeaseTimeout">After how long without a heartbeat a run lease is stale; null: <see cref="RunLeases.DefaultStaleAfter"/>.</param>
public sealed record RunnerOptions(string OutDirectory, string Device, int Threads, bool Fresh, DataLocator Data, bool Verbose = false,
    bool TensorBoard = true, bool Wait = false, TimeSpan? LeaseTimeout = null)
{
    /// <summary>The stale timeout of run leases.</summary>
    public TimeSpan LeaseStaleAfter => LeaseTimeout ?? RunLeases.DefaultStaleAfter;
}

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
    /// <summary>Another live attempt holds the run's lease (<see cref="RunLeases"/>), or took it over from this one; not run here.</summary>
    Busy,
}

/// <summary>One run's outcome.</summary>
/// <param name="Run">The planned run.</param>
/// <param name="Kind">How it ended.</param>
/// <param name="Error">The cause, for a failed, interrupted or busy run.</param>
/// <param name="Duration">Time spent on it here.</param>
/// <param name="Resumed">It continued from a checkpoint.</param>
/// <param name="BadInput">For a run that failed on bad input (a <see cref="BadInputException"/>: data found corrupt, a config the task refuses), its one-line message.</param>
/// <param name="LibTorchError">For a failed run: libtorch raised the error (TorchSharp's <see cref="System.Runtime.InteropServices.ExternalException"/>), which <see cref="PlanRunner"/> retries.</param>
public sealed record RunOutcome(PlannedRun Run, RunOutcomeKind Kind, string? Error, TimeSpan Duration, bool Resumed, string? BadInput = null,
    bool LibTorchError = false);

/// <summary>
/// Runs a plan run by run on the calling thread. A finished key is skipped, an interrupted or failed
/// key resumes from its last checkpoint, a failing run is recorded and the plan goes on, Ctrl-C stops
/// the run in flight at a step boundary (it checkpoints) and ends the plan. Each run trains under its run lease
/// (<see cref="RunLeases"/>): a run another attempt holds is skipped, or with <see cref="RunnerOptions.Wait"/> waited
/// for once the other runs are done. A run that libtorch fails is resumed at once from its last checkpoint, up to
/// <see cref="LibTorchRetries"/> times: TorchSharp 0.107 lets the garbage collector free a temporary <c>Scalar</c>
/// while libtorch still reads it (README "Known issues"), a rare error that a resume from the same checkpoint does not
/// repeat; a real fault in the code fails again and is recorded.
/// </summary>
public sealed class PlanRunner(ResultsStore store, RunnerOptions options, IRunProgress progress, ILoggerFactory loggers)
{
    private readonly ILogger _log = loggers.CreateLogger("crate");

    /// <summary>How often a run that libtorch failed is resumed from its last checkpoint within one invocation.</summary>
    public const int LibTorchRetries = 1;

    /// <summary>Runs the plan; returns one outcome per planned run.</summary>
    /// <exception cref="DiskFullException">The output folder's device filled up; the plan stopped there.</exception>
    public IReadOnlyList<RunOutcome> Run(IReadOnlyList<PlannedRun> plan, CancellationToken cancellation)
    {
        var outcomes = new RunOutcome[plan.Count];
        var code = RunEnvironment.Code();
        var waiting = new List<int>();
        for (int i = 0; i < plan.Count; i++)
        {
            if (cancellation.IsCancellationRequested) { outcomes[i] = NotStarted(plan[i]); continue; }
            outcomes[i] = RunAt(plan, i, code, cancellation);
            if (outcomes[i].Kind == RunOutcomeKind.Busy && options.Wait) waiting.Add(i);
        }
        // --wait: the runs other attempts hold, each as soon as its lease is free (then skipped when finished, else resumed).
        while (waiting.Count > 0 && !cancellation.IsCancellationRequested)
        {
            foreach (int i in waiting.ToList())
            {
                if (cancellation.IsCancellationRequested || RunLeases.Holder(options, plan[i]) is not null) continue;
                outcomes[i] = RunAt(plan, i, code, cancellation);
                if (outcomes[i].Kind != RunOutcomeKind.Busy) waiting.Remove(i);
            }
            if (waiting.Count > 0) cancellation.WaitHandle.WaitOne(RunLeases.WaitPoll);
        }
        foreach (int i in waiting) outcomes[i] = NotStarted(plan[i]);
        return outcomes.Select(o => RunLeases.Settle(o, store, progress)).ToList();
    }

    private static RunOutcome NotStarted(PlannedRun run) => new(run, RunOutcomeKind.NotStarted, null, TimeSpan.Zero, false);

    private RunOutcome RunAt(IReadOnlyList<PlannedRun> plan, int i, CodeVersion code, CancellationToken cancellation)
    {
        progress.StartRun(i + 1, plan[i].Label);
        RunOutcome outcome;
        try
        {
            outcome = RunOne(plan[i], code, cancellation);
            for (int retry = 1; retry <= LibTorchRetries && outcome is { Kind: RunOutcomeKind.Failed, LibTorchError: true }
                                && !cancellation.IsCancellationRequested; retry++)
            {
                progress.Message($"[retry] {plan[i].Label}: libtorch failed it ({FirstLine(outcome.Error)}); resuming it from its last " +
                                 $"checkpoint, retry {retry} of {LibTorchRetries} (README \"Known issues\")");
                outcome = RunOne(plan[i], code, cancellation);
            }
        }
        catch (Exception e) when (e is not DiskFullException && DiskFullException.IsCause(e))
        {
            throw new DiskFullException(options.OutDirectory, e);   // before or after training: config.json, the run record
        }
        progress.EndRun(outcome.Kind == RunOutcomeKind.Finished && !outcome.Resumed ? outcome.Duration : null);
        return outcome;
    }

    private RunOutcome RunOne(PlannedRun run, CodeVersion code, CancellationToken cancellation)
    {
        var task = run.Task.Task;
        var runDir = RunDirectory(run);
        if (Skip(options, run, store.GetRun(run.Key), progress) is { } skipped) return skipped;
        // Everything from here on (deleting for --fresh, the checkpoints, the run record) belongs to the lease holder.
        using var lease = RunLeases.Take(options, run, progress, out var holder);
        if (lease is null) return RunLeases.Busy(options, run, holder!, progress);
        var existing = store.GetRun(run.Key);   // the attempt that held the lease may have finished it just now
        if (Skip(options, run, existing, progress) is { } done) return done;
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
        // Ctrl-C, or the lease taken over by another attempt (this one stalled past the stale timeout): stop at a step boundary,
        // and in the second case write no checkpoint (the fence) and no record.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation, lease.LostToken);
        using var fence = Crate.Core.Training.CheckpointFence.Guard(checkpoints, lease.Verify);
        var context = new HostRunContext(run, options.Device, runDir, resume, store, options.Data, progress, logger, stop.Token,
            options.TensorBoard ? TensorBoardLog.Open(runDir, logger) : null, cacheDirectory: Path.Combine(options.OutDirectory, "cache"));
        var clock = Stopwatch.StartNew();
        try
        {
            torch.set_num_threads(options.Threads);
            torch.manual_seed(run.Seed);
            var result = task.Run(context);
            clock.Stop();
            if (lease.Verify() is { } lost) return Lost(run, lost, clock.Elapsed);
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
        catch (Exception) when (lease.LostReason is { } lost)
        {
            return Lost(run, lost, clock.Elapsed);
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
        catch (BadInputException e)
        {
            // Bad input found only once the run reads it (a data file corrupt inside, a config the task refuses when it builds):
            // recorded as failed like any failure, and the invocation ends with exit code 2 and this one line.
            record.Status = RunStatus.Failed;
            record.Error = Cause(e);
            record.TrainSeconds += clock.Elapsed.TotalSeconds;
            store.UpsertRun(record);
            _log.LogDebug(e, "run {Run} failed on bad input", run.Label);
            progress.Message($"[failed] {run.Label}: {e.Message}");
            return new(run, RunOutcomeKind.Failed, record.Error, clock.Elapsed, resumed, e.Message);
        }
        catch (Exception e)
        {
            var cause = Cause(e);
            record.Status = RunStatus.Failed;
            record.Error = cause;
            record.TrainSeconds += clock.Elapsed.TotalSeconds;
            store.UpsertRun(record);
            _log.LogDebug(e, "run {Run} failed", run.Label);
            bool libtorch = Innermost(e) is System.Runtime.InteropServices.ExternalException;
            // run.log gets the exception with its stack traces; libtorch's message carries its C++ one, so the terminal gets
            // its first line (the record keeps all of it).
            logger.LogInformation(e, "the run failed: {Cause}", FirstLine(cause));
            progress.Message($"[failed] {run.Label}: {(libtorch ? FirstLine(cause) : cause)}");
            return new(run, RunOutcomeKind.Failed, cause, clock.Elapsed, resumed, LibTorchError: libtorch);
        }
    }

    /// <summary>This attempt lost the run's lease to another while it trained: it stopped and wrote neither a checkpoint nor the record.</summary>
    private RunOutcome Lost(PlannedRun run, string reason, TimeSpan elapsed)
    {
        progress.Message($"[busy] {run.Label}: stopped without writing, its lease was taken over: {reason}");
        return new(run, RunOutcomeKind.Busy, $"its lease was taken over: {reason}", elapsed, false);
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
        e = Innermost(e);
        return $"{e.GetType().Name}: {e.Message}";
    }

    private static Exception Innermost(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException or TypeInitializationException
               && e.InnerException is not null)
            e = e.InnerException;
        return e;
    }

    private static string FirstLine(string? text) => text is null ? "" : text.Split('\n', 2)[0].TrimEnd('\r');
}
