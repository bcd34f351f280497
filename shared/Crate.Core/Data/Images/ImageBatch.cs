using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Data.Images;

/// <summary>
/// Where a loader stands: the epoch and how many samples of that epoch's order have been handed out.
/// Plain data (serialise it with the checkpoint); <see cref="ImageBatchLoader.Position"/> takes it back.
/// </summary>
public readonly record struct LoaderPosition(int Epoch, int Index);

/// <summary>Channels, height and width of one sample of a view.</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Floats per sample.</summary>
    public int Size => Channels * Height * Width;
}

/// <summary>
/// One batch prepared on the loader thread as managed arrays: per view, <c>float[N*C*H*W]</c> in NCHW
/// order; labels as <c>long[N]</c>. Turn it into tensors with <see cref="ToTensors"/> on the training
/// thread, inside that thread's dispose scope (TorchSharp's dispose scopes are thread-local).
/// </summary>
public sealed class ImageBatch
{
    internal ImageBatch(float[][] views, ImageShape[] shapes, long[] labels, int[] indices, LoaderPosition start, LoaderPosition next)
    {
        Views = views;
        Shapes = shapes;
        Labels = labels;
        Indices = indices;
        Start = start;
        Next = next;
    }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>Pixels of the first (usually only) view, <c>[N, C, H, W]</c>.</summary>
    public float[] Pixels => Views[0];

    /// <summary>Shape of one sample of the first view.</summary>
    public ImageShape Shape => Shapes[0];

    /// <summary>Pixels of every view (several for multi-crop methods such as DINO), each <c>[N, C, H, W]</c>.</summary>
    public IReadOnlyList<float[]> Views { get; }

    /// <summary>Per-sample shape of each view.</summary>
    public IReadOnlyList<ImageShape> Shapes { get; }

    /// <summary>Class labels, <c>[N]</c>.</summary>
    public long[] Labels { get; }

    /// <summary>Dataset indices of the samples.</summary>
    public int[] Indices { get; }

    /// <summary>The loader position before this batch.</summary>
    public LoaderPosition Start { get; }

    /// <summary>The loader position after this batch: save it with a checkpoint taken after training on it.</summary>
    public LoaderPosition Next { get; }

    /// <summary>View <paramref name="view"/> as a float tensor <c>[N, C, H, W]</c> (a copy of the array).</summary>
    public Tensor ViewTensor(int view, Device? device = null)
    {
        ImageShape s = Shapes[view];
        Tensor t = torch.tensor(Views[view], [Count, s.Channels, s.Height, s.Width]);
        return device is null || device.type == DeviceType.CPU ? t : t.to(device);
    }

    /// <summary>Labels as an int64 tensor <c>[N]</c>.</summary>
    public Tensor LabelTensor(Device? device = null)
    {
        Tensor t = torch.tensor(Labels, [Count]);
        return device is null || device.type == DeviceType.CPU ? t : t.to(device);
    }

    /// <summary>Images <c>[N, C, H, W]</c> and labels <c>[N]</c> of the first view; call inside the training step's dispose scope.</summary>
    public (Tensor Images, Tensor Labels) ToTensors(Device? device = null) => (ViewTensor(0, device), LabelTensor(device));
}
