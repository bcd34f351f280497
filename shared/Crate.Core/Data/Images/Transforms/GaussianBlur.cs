namespace Crate.Core.Data.Images.Transforms;

/// <summary>
/// DINO's random Gaussian blur: with probability <see cref="Probability"/>, a blur with σ ~
/// U[<see cref="MinSigma"/>, <see cref="MaxSigma"/>] (DINO: 0.1..2). A true separable Gaussian as
/// torchvision's <c>GaussianBlur</c> computes it (kernel radius ⌈3σ⌉, weights <c>exp(−x²/2σ²)</c>
/// normalised, reflect padding), not PIL's box approximation that DINO's code calls; one rounding to
/// bytes after both passes. Works in place with a float plane from the scratch.
/// </summary>
public sealed record GaussianBlur(double Probability, double MinSigma = 0.1, double MaxSigma = 2.0) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        // Taken before the coin and sized for the largest σ, so a rarely applied blur finds them already there.
        float[] kernel = scratch.Floats(0, 2 * (int)Math.Ceiling(3 * Math.Max(MinSigma, MaxSigma)) + 1);
        float[] rows = scratch.Floats(1, image.Height * image.Width);   // [H, W] after the horizontal pass
        if (rng.NextDouble() >= Probability) return image;
        double sigma = rng.Uniform(MinSigma, MaxSigma);
        int radius = (int)Math.Ceiling(3 * sigma);
        double total = 0;
        for (int x = -radius; x <= radius; x++) total += Math.Exp(-x * x / (2 * sigma * sigma));
        for (int x = -radius; x <= radius; x++) kernel[x + radius] = (float)(Math.Exp(-x * x / (2 * sigma * sigma)) / total);

        int h = image.Height, w = image.Width;
        for (int c = 0; c < image.Channels; c++)
        {
            Span<byte> plane = image.Plane(c);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    float sum = 0;
                    for (int k = -radius; k <= radius; k++) sum += kernel[k + radius] * plane[y * w + Reflect(x + k, w)];
                    rows[y * w + x] = sum;
                }
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    float sum = 0;
                    for (int k = -radius; k <= radius; k++) sum += kernel[k + radius] * rows[Reflect(y + k, h) * w + x];
                    plane[y * w + x] = (byte)Math.Clamp(MathF.Round(sum), 0f, 255f);
                }
        }
        return image;
    }

    /// <summary>Mirrors an index outside 0..n−1 back in without repeating the edge (numpy/torch "reflect").</summary>
    private static int Reflect(int i, int n)
    {
        if (n == 1) return 0;
        int period = 2 * n - 2;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - i;
    }
}
