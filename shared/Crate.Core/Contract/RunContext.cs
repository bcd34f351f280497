using Microsoft.Extensions.Logging;

namespace Crate.Core.Contract;

/// <summary>
/// Everything a task needs to execute one run, handed in by the host. Calls on it are made from the
/// run's own thread; implementations are thread-safe.
/// </summary>
public interface IRunContext
{
    /// <summary>Task name.</summary>
    string Task { get; }

    /// <summary>Model name (one of the task's <see cref="ICrateTask.Models"/>).</summary>
    string Model { get; }

    /// <summary>Preset the config was resolved from.</summary>
    string Preset { get; }

    /// <summary>Master seed; derive init, data-order and masking seeds from it.</summary>
    int Seed { get; }

    /// <summary>The fully resolved, validated config.</summary>
    ResolvedConfig Config { get; }

    /// <summary>Torch device name: <c>cpu</c> or <c>cuda</c>.</summary>
    string Device { get; }

    /// <summary>The run's own folder (config.json, metrics.jsonl, artifacts).</summary>
    string RunDirectory { get; }

    /// <summary>
    /// The phase this context trains (<see cref="RunPhase"/>): <see cref="RunPhase.Train"/> for the run itself,
    /// the phase's name inside <see cref="RunPhase.Phase"/>.
    /// </summary>
    string Phase => RunPhase.Train;

    /// <summary>Folder for checkpoints, inside the run folder (a phase's own sub-folder inside a phase).</summary>
    string CheckpointDirectory { get; }

    /// <summary>The checkpoint to resume from, or null for a fresh start.</summary>
    string? ResumeCheckpoint { get; }

    /// <summary>Cancelled on Ctrl-C: save a checkpoint and throw <see cref="OperationCanceledException"/>.</summary>
    CancellationToken Cancellation { get; }

    /// <summary>Logger for the run.</summary>
    ILogger Logger { get; }

    /// <summary>
    /// A folder shared by every run of one results folder, for results that depend on no model and may be computed
    /// once (the raw-input probes, <see cref="Evaluation.ProbeCache"/>); null: compute them in every run.
    /// </summary>
    string? CacheDirectory => null;

    /// <summary>The folder of dataset <paramref name="name"/> (from <c>--data name=DIR</c> or the shipped default).</summary>
    string DataDirectory(string name);

    /// <summary>Live progress; cheap, call every step.</summary>
    void ReportProgress(ProgressInfo progress);

    /// <summary>
    /// Records one evaluation row; stored at once (by run, phase and step), so a crash loses at most the
    /// evaluation in flight.
    /// </summary>
    void ReportEpoch(EpochRow row);

    /// <summary>Records white-box rows as soon as they are measured.</summary>
    void ReportWhiteBox(IReadOnlyList<WhiteBoxRow> rows);
}

/// <summary>
/// An <see cref="IRunContext"/> that forwards every member to <paramref name="inner"/>; derive from it and
/// override only what a wrapper changes (for example a plugin that times its training, or a test that
/// points one dataset elsewhere).
/// </summary>
public abstract class DelegatingRunContext(IRunContext inner) : IRunContext
{
    /// <summary>The wrapped context.</summary>
    protected IRunContext Inner => inner;

    /// <inheritdoc />
    public virtual string Task => inner.Task;

    /// <inheritdoc />
    public virtual string Model => inner.Model;

    /// <inheritdoc />
    public virtual string Preset => inner.Preset;

    /// <inheritdoc />
    public virtual int Seed => inner.Seed;

    /// <inheritdoc />
    public virtual ResolvedConfig Config => inner.Config;

    /// <inheritdoc />
    public virtual string Device => inner.Device;

    /// <inheritdoc />
    public virtual string RunDirectory => inner.RunDirectory;

    /// <inheritdoc />
    public virtual string Phase => inner.Phase;

    /// <inheritdoc />
    public virtual string CheckpointDirectory => inner.CheckpointDirectory;

    /// <inheritdoc />
    public virtual string? ResumeCheckpoint => inner.ResumeCheckpoint;

    /// <inheritdoc />
    public virtual CancellationToken Cancellation => inner.Cancellation;

    /// <inheritdoc />
    public virtual ILogger Logger => inner.Logger;
    /// <inheritdoc />
    public virtual string? CacheDirectory => inner.CacheDirectory;

    /// <inheritdoc />
    public virtual string DataDirectory(string name) => inner.DataDirectory(name);

    /// <inheritdoc />
    public virtual void ReportProgress(ProgressInfo progress) => inner.ReportProgress(progress);

    /// <inheritdoc />
    public virtual void ReportEpoch(EpochRow row) => inner.ReportEpoch(row);

    /// <inheritdoc />
    public virtual void ReportWhiteBox(IReadOnlyList<WhiteBoxRow> rows) => inner.ReportWhiteBox(rows);
}
