using System.Text.Json;
using Crate.Core.Contract;
using Crate.Results;
using Microsoft.Extensions.Logging;

namespace Crate.Host.Running;

/// <summary>
/// The host's <see cref="IRunContext"/>: epoch rows and white-box rows go to the results database at
/// once (and to the run folder's metrics.jsonl), progress to the <see cref="IRunProgress"/> (the terminal, or a job's parent);
/// with <paramref name="tensorBoard"/>, every step, row and white-box measure also to the run's TensorBoard event files.
/// </summary>
public sealed class HostRunContext(
    Planning.PlannedRun run,
    string device,
    string runDirectory,
    string? resumeCheckpoint,
    ResultsStore store,
    DataLocator data,
    IRunProgress progress,
    ILogger logger,
    CancellationToken cancellation,
    TensorBoardLog? tensorBoard = null,
    string? cacheDirectory = null) : IRunContext
{
    private readonly object _gate = new();

    /// <inheritdoc />
    public string Task => run.Task.Task.Name;
    /// <inheritdoc />
    public string Model => run.Model.Name;
    /// <inheritdoc />
    public string Preset => run.Preset;
    /// <inheritdoc />
    public int Seed => run.Seed;
    /// <inheritdoc />
    public ResolvedConfig Config => run.Config;
    /// <inheritdoc />
    public string Device => device;
    /// <inheritdoc />
    public string RunDirectory => runDirectory;
    /// <inheritdoc />
    public string CheckpointDirectory => Path.Combine(runDirectory, "checkpoints");
    /// <inheritdoc />
    public string? ResumeCheckpoint => resumeCheckpoint;
    /// <inheritdoc />
    public CancellationToken Cancellation => cancellation;
    /// <inheritdoc />
    public ILogger Logger => logger;
    /// <inheritdoc />
    public string? CacheDirectory => cacheDirectory;

    /// <inheritdoc />
    public string DataDirectory(string name)
    {
        var need = run.Task.Task.Datasets.FirstOrDefault(d => d.Name == name)
            ?? new DatasetNeed(name, name, null);
        return data.Resolve(need);
    }

    /// <inheritdoc />
    public void ReportProgress(ProgressInfo info)
    {
        progress.Update(info);
        tensorBoard?.Progress(info);
    }

    /// <inheritdoc />
    public void ReportEpoch(EpochRow row)
    {
        lock (_gate)
        {
            store.AddEpoch(run.Key, row);
            AppendJsonLine(new { kind = "epoch", phase = row.Phase, epoch = row.Epoch, step = row.Step, metrics = row.Metrics, at = DateTime.UtcNow });
            tensorBoard?.Epoch(row);
        }
        progress.Message(ProgressView.EvaluationLine(run.Label, row));
    }

    /// <inheritdoc />
    public void ReportWhiteBox(IReadOnlyList<WhiteBoxRow> rows)
    {
        lock (_gate)
        {
            store.SetWhiteBox(run.Key, rows);
            foreach (var r in rows)
                AppendJsonLine(new { kind = "whitebox", layer = r.Layer, measure = r.Measure, split = r.Split, mean = r.Mean, std = r.Std, samples = r.Samples });
            tensorBoard?.WhiteBox(rows);
        }
    }

    /// <summary>Appends the final metrics line to metrics.jsonl (and the final metrics, white-box rows and images to the TensorBoard files).</summary>
    public void WriteFinal(RunResult result)
    {
        lock (_gate)
        {
            AppendJsonLine(new { kind = "final", metrics = result.Metrics, at = DateTime.UtcNow });
            tensorBoard?.WhiteBox(result.WhiteBox);
            tensorBoard?.Final(result.Metrics, result.Artifacts, runDirectory);
        }
    }

    private void AppendJsonLine(object value) =>
        File.AppendAllText(Path.Combine(runDirectory, "metrics.jsonl"), JsonSerializer.Serialize(value) + "\n");
}
