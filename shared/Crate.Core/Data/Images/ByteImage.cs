namespace Crate.Core.Data.Images;

/// <summary>
/// One image as unsigned bytes in planar CHW order (all of channel 0, then channel 1, ...), the layout
/// that the augmentations work on and that the loader turns into NCHW floats.
/// </summary>
public sealed class ByteImage
{
    /// <summary>Wraps <paramref name="data"/> (length C*H*W, CHW order) without copying.</summary>
    public ByteImage(int channels, int height, int width, byte[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (data.Length != (long)channels * height * width)
            throw new ArgumentException($"data has {data.Length} bytes, expected {channels}x{height}x{width}", nameof(data));
        Channels = channels;
        Height = height;
        Width = width;
        Data = data;
    }

    /// <summary>A zero image of the given shape.</summary>
    public ByteImage(int channels, int height, int width) : this(channels, height, width, new byte[channels * height * width]) { }

    /// <summary>Number of channels (1 greyscale, 3 RGB).</summary>
    public int Channels { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Pixels, CHW order: <c>Data[(c * Height + y) * Width + x]</c>.</summary>
    public byte[] Data { get; }

    /// <summary>The pixel at channel <paramref name="c"/>, row <paramref name="y"/>, column <paramref name="x"/>.</summary>
    public byte this[int c, int y, int x] => Data[(c * Height + y) * Width + x];

    /// <summary>One channel plane (H*W bytes).</summary>
    public Span<byte> Plane(int c) => Data.AsSpan(c * Height * Width, Height * Width);
}
