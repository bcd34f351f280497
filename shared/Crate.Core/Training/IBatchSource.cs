using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>
/// Where the trainer is in the data: micro-batch <see cref="Index"/> (0-based) of epoch <see cref="Epoch"/>
/// (0-based). Two integers, saved in every checkpoint.
/// </summary>
public readonly record struct DataPosition(int Epoch, long Index);

/// <summary>
/// A task's training data as a pure function of the position: micro-batch <c>index</c> of epoch <c>epoch</c>
/// must be the same every time it is asked for (derive the order from
/// <see cref="TrainingSeeds.EpochPermutation"/> and any augmentation randomness from
/// <see cref="TrainingSeeds.ForBatch"/>). That makes the serialised <see cref="DataPosition"/> the whole
/// data state, so resuming from a checkpoint continues with the very next micro-batch.
/// </summary>
/// <typeparam name="TBatch">What the loss function consumes (e.g. a record of tensors).</typeparam>
public interface IBatchSource<out TBatch>
{
    /// <summary>Samples per micro-batch (for throughput; the last batch of an epoch is dropped if short).</summary>
    int MicroBatchSize { get; }

    /// <summary>Micro-batches per epoch; the trainer uses the first ⌊n / accumulation⌋ · accumulation of them.</summary>
    long BatchesPerEpoch { get; }

    /// <summary>
    /// Loads micro-batch <paramref name="position"/> onto <paramref name="device"/>. Called inside the step's
    /// dispose scope, so the tensors it creates are freed after the step.
    /// </summary>
    TBatch Get(DataPosition position, Device device);
}
