namespace Crate.Core.Data.Images.Transforms;

/// <summary>
/// Bilinear resampling with PIL's antialiasing: when shrinking, the triangle filter widens by the scale
/// factor so every source pixel contributes (what torchvision's Resize does on PIL images). Separable:
/// a horizontal pass into floats, a vertical pass, one rounding to bytes at the end.
/// </summary>
public static class Resample
{
    /// <summary>
    /// Resizes the box (<paramref name="left"/>, <paramref name="top"/>, <paramref name="width"/> x
    /// <paramref name="height"/>) of <paramref name="source"/> to <paramref name="outHeight"/> x
    /// <paramref name="outWidth"/>; only pixels inside the box are read (a crop, then a resize).
    /// </summary>
    public static ByteImage ResizeBox(ByteImage source, int top, int left, int height, int width, int outHeight, int outWidth)
    {
        if (top < 0 || left < 0 || height <= 0 || width <= 0 || top + height > source.Height || left + width > source.Width)
            throw new ArgumentOutOfRangeException(nameof(top), $"box {left},{top} {width}x{height} is outside the {source.Width}x{source.Height} image");
        var result = new ByteImage(source.Channels, outHeight, outWidth);
        if (height == outHeight && width == outWidth)
        {
            for (int c = 0; c < source.Channels; c++)
                for (int y = 0; y < height; y++)
                    source.Data.AsSpan((c * source.Height + top + y) * source.Width + left, width)
                        .CopyTo(result.Data.AsSpan((c * outHeight + y) * outWidth, outWidth));
            return result;
        }

        Filter horizontal = Filter.Create(width, outWidth);
        Filter vertical = Filter.Create(height, outHeight);
        var rows = new float[height * outWidth];   // [height, outWidth] after the horizontal pass
        var acc = new float[outWidth];
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
                acc.AsSpan().Clear();
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

    /// <summary>Per output pixel: the first input pixel and the normalised weights of the taps from there.</summary>
    private sealed class Filter
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

        // PIL's precompute_coeffs with the bilinear (triangle) filter, support 1.
        public static Filter Create(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = filterScale;
            int taps = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[outSize];
            var count = new int[outSize];
            var weights = new float[outSize * taps];
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
