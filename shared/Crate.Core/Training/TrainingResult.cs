using Crate.Core.Contract;

namespace Crate.Core.Training;

/// <summary>What <see cref="Trainer{TBatch}.Run"/> returns.</summary>
/// <param name="Steps">Optimizer steps completed.</param>
/// <param name="Rows">Every epoch row of the run, including those before a resume.</param>
/// <param name="FinalMetrics">The metrics of the last row (empty when no row was written).</param>
/// <param name="BestValue">Best value of <see cref="TrainerOptions.BestMetric"/>, if tracked.</param>
/// <param name="BestStep">Step at which <paramref name="BestValue"/> was reached.</param>
/// <param name="Checkpoint">The final checkpoint folder.</param>
/// <param name="BestCheckpoint">The <c>best/</c> folder, when a best model was saved.</param>
/// <param name="TrainSeconds">
/// Wall time of training, evaluations included, summed over every session of the run (resumes included): the one
/// source of every task's <c>train_seconds</c>.
/// </param>
public sealed record TrainingResult(
    long Steps,
    IReadOnlyList<EpochRow> Rows,
    IReadOnlyDictionary<string, double> FinalMetrics,
    double? BestValue,
    long? BestStep,
    string Checkpoint,
    string? BestCheckpoint,
    double TrainSeconds)
{
    /// <summary>The rollbacks after a non-finite loss (<see cref="TrainerOptions.NanRetries"/>), oldest first; empty when none.</summary>
    public IReadOnlyList<NanRetry> NanRetries { get; init; } = [];
}

/// <summary>One completed optimizer step, for <see cref="Trainer{TBatch}.StepCompleted"/>.</summary>
/// <param name="Step">Steps completed (1-based).</param>
/// <param name="Epoch">The 1-based epoch of the step's micro-batches.</param>
/// <param name="Loss">Mean loss over the step's micro-batches.</param>
/// <param name="LearningRate">Learning rate used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
public sealed record StepReport(long Step, int Epoch, double Loss, double LearningRate, double GradNorm);

/// <summary>
/// One rollback after a non-finite loss or gradient norm (<see cref="TrainerOptions.NanRetries"/>): the run went
/// back to <paramref name="Checkpoint"/> and went on with the learning rate multiplied by <paramref name="LearningRateScale"/>.
/// </summary>
/// <param name="Attempt">1 for the first rollback of the run, 2 for the second, ...</param>
/// <param name="FailedStep">The 1-based optimizer step whose loss or gradient norm was not finite.</param>
/// <param name="Quantity"><c>loss</c> or <c>gradient norm</c>.</param>
/// <param name="LastFiniteLoss">The mean loss of the step before it, if one completed in that session.</param>
/// <param name="ResumedStep">The step of the checkpoint the run went back to.</param>
/// <param name="Checkpoint">That checkpoint's folder.</param>
/// <param name="LearningRateScale">The multiplier of the schedule's learning rate from then on (0.5 per rollback).</param>
public sealed record NanRetry(int Attempt, long FailedStep, string Quantity, double? LastFiniteLoss, long ResumedStep,
    string Checkpoint, double LearningRateScale);
