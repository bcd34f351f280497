using System.Globalization;

namespace Crate.Core.Training;

/// <summary>
/// The loss or the gradient norm became NaN or infinite. Training stops before the update is applied,
/// so the model is unchanged and the last good checkpoint stays the newest one.
/// </summary>
public sealed class NonFiniteLossException : Exception
{
    internal NonFiniteLossException(string quantity, double value, long step, long totalSteps, DataPosition position, string? lastCheckpoint)
        : base(string.Format(CultureInfo.InvariantCulture,
            "Training stopped: the {0} is {1} at step {2} of {3} (epoch {4}, micro-batch {5}); the update was not applied. " +
            "Last good checkpoint: {6}. Things to try: a lower learning rate (train.lr), a longer warm-up " +
            "(train.warmup_steps / train.warmup_epochs), gradient clipping (train.grad_clip, e.g. 1.0), or check the " +
            "input data for NaN/Inf; re-running resumes from the last good checkpoint.",
            quantity, value, step + 1, totalSteps, position.Epoch + 1, position.Index, lastCheckpoint ?? "none yet"))
    {
        Quantity = quantity; Value = value; Step = step; LastCheckpoint = lastCheckpoint;
    }

    /// <summary><c>loss</c> or <c>gradient norm</c>.</summary>
    public string Quantity { get; }

    /// <summary>The non-finite value.</summary>
    public double Value { get; }

    /// <summary>The 0-based optimizer step that failed.</summary>
    public long Step { get; }

    /// <summary>The newest checkpoint folder, if any was written.</summary>
    public string? LastCheckpoint { get; }
}
