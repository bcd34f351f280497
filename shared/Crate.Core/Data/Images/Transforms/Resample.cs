namespace Crate.Core.Data.Images.Transforms;

/// <summary>
/// Bilinear resampling with PIL's antialiasing: when shrinking, the triangle filter widens by the scale
/// factor so every source pixel contributes (what torchvision's Resize does on PIL images). Separable:
/// a horizontal pass into floats, a vertical pass, one rounding to bytes at the end. The overloads that
/// take an <see cref="ImageScratch"/> write into rented images and arrays and allocate nothing once warm.
/// </summary>
public static class Resample
{
    /// <summary>
    /// Resizes the box (<paramref name="left"/>, <paramref name="top"/>, <paramref name="width"/> x
    /// <paramref name="height"/>) of <paramref name="source"/> to <paramref name="outHeight"/> x
    /// <paramref name="outWidth"/>; only pixels inside the box are read (a crop, then a resize).
    /// </summary>
    public static ByteImage ResizeBox(ByteImage source, int top, int left, int height, int width, int outHeight, int outWidth) =>
        ResizeBox(source, top, left, height, width, outHeight, outWidth, new ImageScratch());

    /// <summary>
    /// <see cref="ResizeBox(ByteImage, int, int, int, int, int, int)"/> into an image rented from
    /// <paramref name="scratch"/>, with its filters and intermediate rows in the scratch's arrays.
    /// </summary>
    public static ByteImage ResizeBox(ByteImage source, int top, int left, int height, int width, int outHeight, int outWidth, ImageScratch scratch)
    {
        if (top < 0 || left < 0 || height <= 0 || width <= 0 || top + height > source.Height || left + width > source.Width)
            throw new ArgumentOutOfRangeException(nameof(top), $"box {left},{top} {width}x{height} is outside the {source.Width}x{source.Height} image");
        ByteImage result = scratch.Rent(source.Channels, outHeight, outWidth);
        if (height == outHeight && width == outWidth)
        {
            for (int c = 0; c < source.Channels; c++)
                for (int y = 0; y < height; y++)
                    source.Data.AsSpan((c * source.Height + top + y) * source.Width + left, width)
                        .CopyTo(result.Data.AsSpan((c * outHeight + y) * outWidth, outWidth));
            return result;
        }

        Filter horizontal = Filter.Create(width, outWidth, source.Width, scratch, 0);
        Filter vertical = Filter.Create(height, outHeight, source.Height, scratch, 1);
        // Sized for the whole source height, so crops of varying height reuse one array.
        float[] rows = scratch.Floats(2, source.Height * outWidth);   // [height, outWidth] after the horizontal pass
        Span<float> acc = scratch.Floats(3, outWidth).AsSpan(0, outWidth);
        for (int c = 0; c < source.Channels; c++)
        {
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<byte> src = source.Data.AsSpan((c * source.Height + top + y) * source.Width + left, width);
                Span<float> dst = rows.AsSpan(y * outWidth, outWidth);
                for (int x = 0; x < outWidth; x++)
                {
                    float sum = 0;
                    int start = horizontal.Start[x];
                    ReadOnlySpan<float> w = horizontal.Weights(x);
                    for (int k = 0; k < w.Length; k++) sum += src[start + k] * w[k];
                    dst[x] = sum;
                }
            }
            for (int y = 0; y < outHeight; y++)
            {
                acc.Clear();
                int start = vertical.Start[y];
                ReadOnlySpan<float> w = vertical.Weights(y);
                for (int k = 0; k < w.Length; k++)
                {
                    ReadOnlySpan<float> row = rows.AsSpan((start + k) * outWidth, outWidth);
                    float wk = w[k];
                    for (int x = 0; x < outWidth; x++) acc[x] += row[x] * wk;
                }
                Span<byte> dst = result.Data.AsSpan((c * outHeight + y) * outWidth, outWidth);
                for (int x = 0; x < outWidth; x++) dst[x] = (byte)Math.Clamp(MathF.Round(acc[x]), 0f, 255f);
            }
        }
        return result;
    }

    /// <summary>Resizes the whole image.</summary>
    public static ByteImage Resize(ByteImage source, int outHeight, int outWidth) =>
        ResizeBox(source, 0, 0, source.Height, source.Width, outHeight, outWidth);

    /// <summary>Resizes the whole image into an image rented from <paramref name="scratch"/>.</summary>
    public static ByteImage Resize(ByteImage source, int outHeight, int outWidth, ImageScratch scratch) =>
        ResizeBox(source, 0, 0, source.Height, source.Width, outHeight, outWidth, scratch);

    /// <summary>Per output pixel: the first input pixel and the normalised weights of the taps from there.</summary>
    private readonly struct Filter
    {
        private readonly float[] _weights;
        private readonly int[] _count;
        private readonly int _taps;

        private Filter(int[] start, int[] count, float[] weights, int taps)
        {
            Start = start;
            _count = count;
            _weights = weights;
            _taps = taps;
        }

        public int[] Start { get; }

        public ReadOnlySpan<float> Weights(int i) => _weights.AsSpan(i * _taps, _count[i]);

        // PIL's precompute_coeffs with the bilinear (triangle) filter, support 1. Filter k (0 horizontal,
        // 1 vertical) lives in the scratch's int slots 2k, 2k+1 and float slot 4+k; only the first
        // count[i] weights of output i are written and read.
        // The weights array is sized for the widest filter any box of the source (up to fullSize) needs.
        public static Filter Create(int inSize, int outSize, int fullSize, ImageScratch scratch, int k)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = filterScale;
            int taps = (int)Math.Ceiling(support) * 2 + 1;
            int maxTaps = (int)Math.Ceiling(Math.Max((double)fullSize / outSize, 1.0)) * 2 + 1;
            int[] start = scratch.Ints(2 * k, outSize);
            int[] count = scratch.Ints(2 * k + 1, outSize);
            float[] weights = scratch.Floats(4 + k, outSize * maxTaps);
            for (int i = 0; i < outSize; i++)
            {
                double center = (i + 0.5) * scale;
                int lo = Math.Max(0, (int)(center - support + 0.5));
                int hi = Math.Min(inSize, (int)(center + support + 0.5));
                double total = 0;
                var w = weights.AsSpan(i * taps, taps);
                for (int x = lo; x < hi; x++)
                {
                    double t = Math.Abs((x - center + 0.5) / filterScale);
                    double v = t < 1 ? 1 - t : 0;
                    w[x - lo] = (float)v;
                    total += v;
                }
                if (total > 0)
                    for (int x = 0; x < hi - lo; x++) w[x] = (float)(w[x] / total);
                start[i] = lo;
                count[i] = hi - lo;
            }
            return new Filter(start, count, weights, taps);
        }
    }
}
