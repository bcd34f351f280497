using Crate.Core.Training;
using static TorchSharp.torch;

namespace Crate.Core.Data.Text;

/// <summary>One micro-batch of token windows: inputs and next-token targets, both int64 <c>[B, T]</c>.</summary>
public sealed record LmBatch(Tensor X, Tensor Y);

/// <summary>
/// Training micro-batches as nanoGPT's <c>get_batch</c> (random windows of a token file, see
/// <see cref="TokenBatchSampler"/>), made a pure function of the trainer's position: micro-batch
/// (epoch e, index i) draws its <see cref="MicroBatchSize"/> offsets from a fresh <see cref="DataRng"/> seeded with
/// <c>DataRng.Derive(seed, e, i)</c>, so a resumed run continues with the same windows. One nominal "epoch"
/// is as many windows as the file has tokens: ⌊(len − 1) / (B·T)⌋ micro-batches (at least one).
/// </summary>
public sealed class RandomWindowBatches : IBatchSource<LmBatch>
{
    /// <summary>
    /// Samples <paramref name="microBatch"/> windows of <paramref name="blockSize"/> tokens per micro-batch from
    /// <paramref name="file"/>, which must hold at least <paramref name="blockSize"/> + 1 tokens. Training passes
    /// <see cref="TrainingSeeds.DataOrder"/> as <paramref name="seed"/>.
    /// </summary>
    public RandomWindowBatches(TokenFile file, int microBatch, int blockSize, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(microBatch);
        TokenBatches.RequireContext(file, blockSize);
        (File, MicroBatchSize, BlockSize, Seed) = (file, microBatch, blockSize, seed);
    }

    /// <summary>The token file sampled.</summary>
    public TokenFile File { get; }

    /// <summary>Context length T.</summary>
    public int BlockSize { get; }

    /// <summary>The seed every position's offsets derive from.</summary>
    public long Seed { get; }

    /// <inheritdoc />
    public int MicroBatchSize { get; }

    /// <inheritdoc />
    public long BatchesPerEpoch => Math.Max(1, (File.Length - 1) / ((long)MicroBatchSize * BlockSize));

    /// <summary>The windows of micro-batch <paramref name="position"/> as managed arrays (the same on every call).</summary>
    public TokenBatch Windows(DataPosition position) =>
        new TokenBatchSampler(File, MicroBatchSize, BlockSize, DataRng.Derive((ulong)Seed, position.Epoch, position.Index)).Next();

    /// <inheritdoc />
    public LmBatch Get(DataPosition position, Device device)
    {
        var (x, y) = Windows(position).ToTensors(device);   // [B, T], [B, T]
        return new LmBatch(x, y);
    }
}
