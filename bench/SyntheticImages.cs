using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Bench;

/// <summary>A micro-batch of images <c>[B, C, H, W]</c> and class labels <c>[B]</c>.</summary>
internal sealed record ImageBatch(Tensor Images, Tensor Labels);

/// <summary>
/// Four fixed random micro-batches (standard-normal images, uniform labels), made once from torch's default
/// generator and cycled by position, so the timed steps spend nothing on data. On the CPU the same tensors are
/// handed out every time (they outlive the step's dispose scope); on another device a copy is made per step.
/// </summary>
internal sealed class SyntheticImages : IBatchSource<ImageBatch>, IDisposable
{
    private readonly List<ImageBatch> _batches;

    /// <summary>Micro-batches of <paramref name="microBatch"/> images shaped by <paramref name="o"/>; one epoch is <paramref name="batchesPerEpoch"/> of them.</summary>
    public SyntheticImages(BenchOptions o, int microBatch, long batchesPerEpoch)
    {
        (MicroBatchSize, BatchesPerEpoch) = (microBatch, batchesPerEpoch);
        _batches = Enumerable.Range(0, 4).Select(_ => new ImageBatch(
            randn(microBatch, o.Channels, o.Image, o.Image).DetachFromDisposeScope(),     // [B, C, H, W]
            randint(0, o.Classes, [microBatch]).DetachFromDisposeScope())).ToList();       // [B]
    }

    /// <inheritdoc />
    public int MicroBatchSize { get; }

    /// <inheritdoc />
    public long BatchesPerEpoch { get; }

    /// <inheritdoc />
    public ImageBatch Get(DataPosition position, Device device)
    {
        var batch = _batches[(int)(position.Index % _batches.Count)];
        return device.type == DeviceType.CPU ? batch : new ImageBatch(batch.Images.to(device), batch.Labels.to(device));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (images, labels) in _batches)
        {
            images.Dispose();
            labels.Dispose();
        }
    }
}
