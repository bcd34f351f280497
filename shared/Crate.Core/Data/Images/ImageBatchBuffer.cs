namespace Crate.Core.Data.Images;

/// <summary>
/// Reusable memory of one batch: per view <c>float[Capacity*C*H*W]</c> (NCHW, the first
/// <see cref="Count"/> samples valid), labels and dataset indices. The prefetching source keeps a fixed
/// ring of these and refills them, so the loader threads allocate nothing per batch.
/// </summary>
internal sealed class ImageBatchBuffer(int views, int capacity)
{
    /// <summary>Samples the buffer holds at most.</summary>
    public int Capacity => capacity;

    /// <summary>Pixels per view, <c>[Capacity, C, H, W]</c> once <see cref="SetShape"/> ran.</summary>
    public float[][] Views { get; } = new float[views][];

    /// <summary>Per-sample shape of each view.</summary>
    public ImageShape[] Shapes { get; } = new ImageShape[views];

    /// <summary>Class labels, <c>[Capacity]</c>.</summary>
    public long[] Labels { get; } = new long[capacity];

    /// <summary>Dataset indices of the samples, <c>[Capacity]</c>.</summary>
    public int[] Indices { get; } = new int[capacity];

    /// <summary>Valid samples.</summary>
    public int Count { get; set; }

    /// <summary>Loader position of the first sample.</summary>
    public LoaderPosition Start { get; set; }

    /// <summary>Loader position after the batch.</summary>
    public LoaderPosition Next { get; set; }

    /// <summary>The batch's number in the run (epoch · batches per epoch + batch), set by the prefetcher.</summary>
    public long Sequence { get; set; }

    /// <summary>Fixes the shape of view <paramref name="view"/>, allocating its array only when it is too small.</summary>
    public void SetShape(int view, ImageShape shape)
    {
        Shapes[view] = shape;
        long length = (long)capacity * shape.Size;
        if (Views[view] is not { } array || array.Length < length) Views[view] = new float[length];
    }
}

/// <summary>The working state of one loader thread: image scratch, the per-view generator and the current epoch's order.</summary>
internal sealed class LoaderWorker
{
    /// <summary>Images and arrays reused from sample to sample.</summary>
    public ImageScratch Scratch { get; } = new();

    /// <summary>Reseeded per (seed, epoch, sample, view) and per epoch permutation.</summary>
    public DataRng Rng { get; } = new(0);

    /// <summary>The visiting order of <see cref="OrderEpoch"/>, or null before the first batch.</summary>
    public int[]? Order { get; set; }

    /// <summary>The epoch <see cref="Order"/> belongs to.</summary>
    public int OrderEpoch { get; set; } = -1;
}
