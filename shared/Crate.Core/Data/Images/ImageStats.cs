namespace Crate.Core.Data.Images;

/// <summary>
/// Per-channel mean and standard deviation of pixel values scaled to [0, 1], used to normalise inputs:
/// <c>x = (pixel / 255 - Mean[c]) / Std[c]</c>.
/// </summary>
public sealed record ImageStats(float[] Mean, float[] Std)
{
    /// <summary>Fashion-MNIST training set: mean 0.2860, std 0.3530.</summary>
    public static ImageStats FashionMnist { get; } = new([0.2860f], [0.3530f]);

    /// <summary>MNIST training set: mean 0.1307, std 0.3081.</summary>
    public static ImageStats Mnist { get; } = new([0.1307f], [0.3081f]);

    /// <summary>CIFAR-10 training set (population std over all pixels): mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616).</summary>
    public static ImageStats Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);

    /// <summary>CIFAR-100 training set: mean (0.5071, 0.4865, 0.4409), std (0.2673, 0.2564, 0.2762).</summary>
    public static ImageStats Cifar100 { get; } = new([0.5071f, 0.4865f, 0.4409f], [0.2673f, 0.2564f, 0.2762f]);

    /// <summary>ImageNet (torchvision): mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).</summary>
    public static ImageStats ImageNet { get; } = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>No normalisation beyond scaling to [0, 1]: mean 0, std 1.</summary>
    public static ImageStats Unit { get; } = new([0f], [1f]);

    /// <summary>Number of channels described (1 applies to every channel).</summary>
    public int Channels => Mean.Length;

    /// <summary>
    /// The stats for <paramref name="channels"/> channels: one-channel stats are repeated (a grey image
    /// replicated to RGB keeps its statistics); otherwise the counts must match.
    /// </summary>
    public ImageStats ForChannels(int channels)
    {
        if (Mean.Length != Std.Length) throw new InvalidOperationException($"mean has {Mean.Length} entries, std {Std.Length}");
        if (channels == Channels) return this;
        if (Channels == 1) return new(Enumerable.Repeat(Mean[0], channels).ToArray(), Enumerable.Repeat(Std[0], channels).ToArray());
        throw new ArgumentException($"stats for {Channels} channels cannot normalise {channels}");
    }

    /// <summary>Measures the per-channel mean and population std of a dataset's pixels in [0, 1].</summary>
    public static ImageStats Compute(ImageDataset dataset)
    {
        int c = dataset.Channels, plane = dataset.Height * dataset.Width;
        var sum = new double[c];
        var sumSq = new double[c];
        ReadOnlySpan<byte> pixels = dataset.Pixels.Span;   // [N, C, H*W]
        for (int i = 0; i < dataset.Count; i++)
            for (int ch = 0; ch < c; ch++)
                foreach (byte b in pixels.Slice((i * c + ch) * plane, plane))
                {
                    double v = b / 255.0;
                    sum[ch] += v;
                    sumSq[ch] += v * v;
                }
        double n = (double)dataset.Count * plane;
        var mean = new float[c];
        var std = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double m = sum[ch] / n;
            mean[ch] = (float)m;
            std[ch] = (float)Math.Sqrt(Math.Max(0, sumSq[ch] / n - m * m));
        }
        return new ImageStats(mean, std);
    }
}
