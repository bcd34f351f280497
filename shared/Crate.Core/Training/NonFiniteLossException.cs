using System.Globalization;

namespace Crate.Core.Training;

/// <summary>
/// The loss or the gradient norm became NaN or infinite. Training stops before the update is applied,
/// so the model is unchanged and the last good checkpoint stays the newest one.
/// </summary>
public sealed class NonFiniteLossException : Exception
{
    internal NonFiniteLossException(string quantity, double value, long step, long totalSteps, DataPosition position, string? lastCheckpoint,
        double? lastFiniteLoss = null, int retries = 0, double learningRateScale = 1)
        : base(string.Format(CultureInfo.InvariantCulture,
            "Training stopped: the {0} is {1} at step {2} of {3} (epoch {4}, micro-batch {5}); the update was not applied. " +
            "Last finite loss: {7}{8}. Last good checkpoint: {6}. Things to try: a lower learning rate (train.lr), a longer warm-up " +
            "(train.warmup_steps / train.warmup_epochs), gradient clipping (train.grad_clip, e.g. 1.0), or check the " +
            "input data for NaN/Inf; re-running resumes from the last good checkpoint.",
            quantity, value, step + 1, totalSteps, position.Epoch + 1, position.Index, lastCheckpoint ?? "none yet",
            lastFiniteLoss is { } l ? $"{l.ToString("G6", CultureInfo.InvariantCulture)} (step {step})" : "none (first step)",
            retries > 0 ? $"; after {retries} rollback(s) to a checkpoint with the learning rate halved (now x{learningRateScale.ToString("G4", CultureInfo.InvariantCulture)})" : ""))
    {
        Quantity = quantity; Value = value; Step = step; LastCheckpoint = lastCheckpoint;
        LastFiniteLoss = lastFiniteLoss; Retries = retries; LearningRateScale = learningRateScale;
    }

    /// <summary>The mean loss of the last step that completed (step <see cref="Step"/>, 1-based), or null when none did.</summary>
    public double? LastFiniteLoss { get; }

    /// <summary>Rollbacks (<see cref="TrainerOptions.NanRetries"/>) the run had made before this failure.</summary>
    public int Retries { get; }

    /// <summary>The rollbacks the run had made before this failure, oldest first.</summary>
    public IReadOnlyList<NanRetry> History { get; internal init; } = [];

    /// <summary>The learning-rate multiplier in effect when it failed (1 halved per rollback).</summary>
    public double LearningRateScale { get; }

    /// <summary><c>loss</c> or <c>gradient norm</c>.</summary>
    public string Quantity { get; }

    /// <summary>The non-finite value.</summary>
    public double Value { get; }

    /// <summary>The 0-based optimizer step that failed.</summary>
    public long Step { get; }

    /// <summary>The newest checkpoint folder, if any was written.</summary>
    public string? LastCheckpoint { get; }
}
