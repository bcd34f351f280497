namespace Crate.Core.Data.Images;

/// <summary>
/// An in-memory dataset of equally sized uint8 images stored as one array in NCHW order
/// (<c>[Count, Channels, Height, Width]</c>), with integer labels and class names. IDX and CIFAR
/// files load into this type; it is immutable and safe to read from any thread.
/// </summary>
public sealed class ImageDataset : IImageDataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>
    /// Wraps <paramref name="pixels"/> (<c>[N, C, H, W]</c>) and <paramref name="labels"/> (<c>[N]</c>)
    /// without copying; every label must be a valid index into <paramref name="classNames"/>.
    /// </summary>
    public ImageDataset(string name, byte[] pixels, int[] labels, int channels, int height, int width,
        IReadOnlyList<string> classNames)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3 channels");
        long imageBytes = (long)channels * height * width;
        if (imageBytes <= 0 || pixels.LongLength != imageBytes * labels.Length)
            throw new ArgumentException($"{name}: {pixels.LongLength} pixel bytes do not hold {labels.Length} images of {channels}x{height}x{width}");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"{name}: label {labels[i]} of sample {i} is not one of {classNames.Count} classes");
        Name = name;
        _pixels = pixels;
        _labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int Count => _labels.Length;

    /// <inheritdoc/>
    public int Channels { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>All pixels, <c>[N, C, H, W]</c> uint8.</summary>
    public ReadOnlyMemory<byte> Pixels => _pixels;

    /// <summary>All labels, <c>[N]</c>.</summary>
    public IReadOnlyList<int> Labels => _labels;

    private int ImageBytes => Channels * Height * Width;

    /// <inheritdoc/>
    public int GetLabel(int index) => _labels[index];

    /// <summary>The pixels of sample <paramref name="index"/> without copying (<c>[C, H, W]</c>).</summary>
    public ReadOnlySpan<byte> ImageSpan(int index) => _pixels.AsSpan(index * ImageBytes, ImageBytes);

    /// <inheritdoc/>
    public ByteImage GetImage(int index) => new(Channels, Height, Width, ImageSpan(index).ToArray());

    /// <inheritdoc/>
    public ByteImage GetImage(int index, ImageScratch scratch)
    {
        ByteImage image = scratch.Rent(Channels, Height, Width);
        ImageSpan(index).CopyTo(image.Data);
        return image;
    }

    /// <summary>Number of samples of each class, indexed by label.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassNames.Count];
        foreach (int label in _labels) counts[label]++;
        return counts;
    }

    /// <summary>A new dataset of the samples at <paramref name="indices"/>, in that order (pixels copied).</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices, string? name = null)
    {
        int n = ImageBytes;
        var pixels = new byte[(long)indices.Count * n];
        var labels = new int[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            ImageSpan(indices[k]).CopyTo(pixels.AsSpan(k * n, n));
            labels[k] = _labels[indices[k]];
        }
        return new ImageDataset(name ?? $"{Name}[subset]", pixels, labels, Channels, Height, Width, ClassNames);
    }
}
