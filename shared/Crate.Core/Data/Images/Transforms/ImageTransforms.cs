namespace Crate.Core.Data.Images.Transforms;

/// <summary>
/// One step of an image pipeline: uint8 CHW in, uint8 CHW out. Implementations hold no mutable state
/// (the loader calls them from several threads); all randomness comes from the <see cref="DataRng"/> passed in, which
/// the loader seeds per (seed, epoch, sample, view), so results are reproducible and thread-order free.
/// The loader calls the overload with an <see cref="ImageScratch"/>; the built-in steps implement it
/// without allocating (a step that only implements the two-argument overload works, but allocates).
/// </summary>
public interface IImageTransform
{
    /// <summary>Transforms <paramref name="image"/>; may return it modified in place or a new image.</summary>
    ByteImage Apply(ByteImage image, DataRng rng);

    /// <summary>
    /// Transforms <paramref name="image"/>, returning it (modified in place) or an image rented from
    /// <paramref name="scratch"/>; any working arrays come from the scratch too. Same result as
    /// <see cref="Apply(ByteImage, DataRng)"/> for the same <paramref name="rng"/> state.
    /// </summary>
    ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch) => Apply(image, rng);
}

/// <summary>
/// torchvision's <c>RandomResizedCrop</c>: a crop of random area (a fraction in <see cref="MinScale"/>..
/// <see cref="MaxScale"/> of the image) and random aspect ratio (log-uniform in <see cref="MinRatio"/>..
/// <see cref="MaxRatio"/>), resized to the output size; after 10 failed draws, the central crop clamped to
/// the ratio range. Defaults are torchvision's: scale (0.08, 1), ratio (3/4, 4/3).
/// </summary>
public sealed record RandomResizedCrop(int Height, int Width, double MinScale = 0.08, double MaxScale = 1.0,
    double MinRatio = 3.0 / 4.0, double MaxRatio = 4.0 / 3.0) : IImageTransform
{
    /// <summary>A square output of side <paramref name="size"/> with torchvision's defaults.</summary>
    public RandomResizedCrop(int size) : this(size, size) { }

    /// <summary>The crop box (top, left, height, width) for an image of the given size.</summary>
    public (int Top, int Left, int Height, int Width) SampleBox(int imageHeight, int imageWidth, DataRng rng)
    {
        double area = (double)imageHeight * imageWidth;
        double logMin = Math.Log(MinRatio), logMax = Math.Log(MaxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * rng.Uniform(MinScale, MaxScale);
            double aspect = Math.Exp(rng.Uniform(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * aspect));   // banker's rounding, as Python's round
            int h = (int)Math.Round(Math.Sqrt(targetArea / aspect));
            if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight)
                return (rng.NextInt(imageHeight - h + 1), rng.NextInt(imageWidth - w + 1), h, w);
        }
        // Fallback: central crop with the ratio clamped into range.
        double inRatio = (double)imageWidth / imageHeight;
        int cw = imageWidth, ch = imageHeight;
        if (inRatio < MinRatio) ch = (int)Math.Round(cw / MinRatio);
        else if (inRatio > MaxRatio) cw = (int)Math.Round(ch * MaxRatio);
        return ((imageHeight - ch) / 2, (imageWidth - cw) / 2, ch, cw);
    }

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        var (top, left, h, w) = SampleBox(image.Height, image.Width, rng);
        return Resample.ResizeBox(image, top, left, h, w, Height, Width, scratch);
    }
}

/// <summary>
/// Random crop of a fixed size after zero padding on every side (the CIFAR recipe: 32 with padding 4).
/// </summary>
public sealed record RandomCrop(int Height, int Width, int Padding = 0) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        int paddedH = image.Height + 2 * Padding, paddedW = image.Width + 2 * Padding;
        if (Height > paddedH || Width > paddedW)
            throw new ArgumentException($"crop {Height}x{Width} is larger than the padded image {paddedH}x{paddedW}");
        int top = rng.NextInt(paddedH - Height + 1) - Padding;    // in source coordinates
        int left = rng.NextInt(paddedW - Width + 1) - Padding;
        return Crop.Copy(image, top, left, Height, Width, scratch);
    }
}

/// <summary>Mirrors the image left-right with probability <see cref="Probability"/>.</summary>
public sealed record RandomHorizontalFlip(double Probability = 0.5) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch) => Apply(image, rng);

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng)
    {
        if (rng.NextDouble() >= Probability) return image;
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < image.Height; y++)
                image.Data.AsSpan((c * image.Height + y) * image.Width, image.Width).Reverse();
        return image;
    }
}

/// <summary>
/// torchvision's <c>Resize(size)</c> with an int: the shorter side becomes <see cref="Size"/>, the longer
/// one <c>int(Size * long / short)</c>, keeping the aspect ratio.
/// </summary>
public sealed record ResizeShorterSide(int Size) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        bool portrait = image.Height >= image.Width;
        int shorter = portrait ? image.Width : image.Height, longer = portrait ? image.Height : image.Width;
        int newLong = (int)((long)Size * longer / shorter);
        if (shorter == Size) return image;
        return portrait ? Resample.Resize(image, newLong, Size, scratch) : Resample.Resize(image, Size, newLong, scratch);
    }
}

/// <summary>torchvision's <c>Resize((h, w))</c>: exactly <see cref="Height"/> x <see cref="Width"/>, ignoring aspect.</summary>
public sealed record ResizeExact(int Height, int Width) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch) =>
        image.Height == Height && image.Width == Width ? image : Resample.Resize(image, Height, Width, scratch);
}

/// <summary>torchvision's <c>CenterCrop</c>: the central window (zero padding where the image is smaller).</summary>
public sealed record CenterCrop(int Height, int Width) : IImageTransform
{
    /// <summary>A square crop.</summary>
    public CenterCrop(int size) : this(size, size) { }

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        if (image.Height == Height && image.Width == Width) return image;
        int top = (int)Math.Round((image.Height - Height) / 2.0);
        int left = (int)Math.Round((image.Width - Width) / 2.0);
        return Crop.Copy(image, top, left, Height, Width, scratch);
    }
}

/// <summary>
/// Converts to <see cref="Channels"/> channels: grey to RGB by replication, RGB to grey with PIL's luma
/// (299 R + 587 G + 114 B) / 1000.
/// </summary>
public sealed record ToChannels(int Channels) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        if (image.Channels == Channels) return image;
        ByteImage result = scratch.Rent(Channels, image.Height, image.Width);
        if (image.Channels == 1 && Channels == 3)
        {
            for (int c = 0; c < 3; c++) image.Plane(0).CopyTo(result.Plane(c));
            return result;
        }
        if (image.Channels == 3 && Channels == 1)
        {
            Span<byte> r = image.Plane(0), g = image.Plane(1), b = image.Plane(2), dst = result.Plane(0);
            for (int i = 0; i < dst.Length; i++) dst[i] = (byte)((r[i] * 19595 + g[i] * 38470 + b[i] * 7471 + 0x8000) >> 16);
            return result;
        }
        throw new ArgumentException($"cannot convert {image.Channels} channels to {Channels}");
    }
}

/// <summary>Window copy with zero fill outside the source.</summary>
internal static class Crop
{
    public static ByteImage Copy(ByteImage image, int top, int left, int height, int width, ImageScratch scratch)
    {
        ByteImage result = scratch.Rent(image.Channels, height, width);
        result.Data.AsSpan().Clear();
        int x0 = Math.Max(0, left), x1 = Math.Min(image.Width, left + width);
        if (x1 <= x0) return result;
        for (int c = 0; c < image.Channels; c++)
            for (int y = 0; y < height; y++)
            {
                int sy = top + y;
                if (sy < 0 || sy >= image.Height) continue;
                image.Data.AsSpan((c * image.Height + sy) * image.Width + x0, x1 - x0)
                    .CopyTo(result.Data.AsSpan((c * height + y) * width + (x0 - left), x1 - x0));
            }
        return result;
    }
}
