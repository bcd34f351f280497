namespace Crate.Core.Data.Images.Transforms;

/// <summary>
/// A per-sample image pipeline: uint8 steps (crop, flip, resize, the RandAugment slot, channel
/// conversion), then normalisation to floats <c>(pixel / 255 - mean) / std</c> written as CHW.
/// Deterministic: the same image and the same <see cref="DataRng"/> state give the same output.
/// </summary>
public sealed class ImagePipeline
{
    /// <summary>A pipeline of <paramref name="steps"/> followed by normalisation with <paramref name="stats"/>.</summary>
    public ImagePipeline(IReadOnlyList<IImageTransform> steps, ImageStats stats)
    {
        Steps = steps;
        Stats = stats;
        _steps = [.. steps];
    }

    private readonly IImageTransform[] _steps;   // indexed in the per-sample path (no enumerator)

    /// <summary>The uint8 steps in order.</summary>
    public IReadOnlyList<IImageTransform> Steps { get; }

    /// <summary>Normalisation statistics (1-channel stats apply to every channel).</summary>
    public ImageStats Stats { get; }

    /// <summary>
    /// The supervised training recipe (CRATE <c>main.py</c>, and the transfer recipe of docs/paper.md §3a):
    /// <c>RandomResizedCrop(size)</c> → <c>RandomHorizontalFlip(0.5)</c> → <paramref name="randAugment"/> →
    /// channel conversion → normalise. <paramref name="randAugment"/> is the place for the transfer recipe's
    /// RandAugment(N=2, M=14): any <see cref="IImageTransform"/> on the cropped, flipped uint8 image, before
    /// normalisation, exactly where torchvision/timm apply it. Null leaves the slot empty (the paper's
    /// ImageNet pre-training uses crop and flip only).
    /// </summary>
    public static ImagePipeline ForTraining(int size, ImageStats stats, int channels, RandomResizedCrop? crop = null,
        double flipProbability = 0.5, IImageTransform? randAugment = null)
    {
        var steps = new List<IImageTransform> { crop ?? new RandomResizedCrop(size) };
        if (flipProbability > 0) steps.Add(new RandomHorizontalFlip(flipProbability));
        if (randAugment is not null) steps.Add(randAugment);
        steps.Add(new ToChannels(channels));
        return new ImagePipeline(steps, stats.ForChannels(channels));
    }

    /// <summary>
    /// The evaluation recipe: resize the shorter side to <paramref name="resizeTo"/> (default
    /// <c>round(size * 256 / 224)</c>, i.e. 256 for 224), centre crop <paramref name="size"/>, normalise.
    /// </summary>
    public static ImagePipeline ForEvaluation(int size, ImageStats stats, int channels, int? resizeTo = null)
    {
        int shorter = resizeTo ?? (int)Math.Round(size * 256.0 / 224.0);
        return new ImagePipeline([new ResizeShorterSide(shorter), new CenterCrop(size), new ToChannels(channels)],
            stats.ForChannels(channels));
    }

    /// <summary>
    /// No geometric change: channel conversion and normalisation only, for datasets already at the model's
    /// input size (Fashion-MNIST 28x28, CIFAR 32x32) at evaluation time.
    /// </summary>
    public static ImagePipeline Plain(ImageStats stats, int channels) =>
        new([new ToChannels(channels)], stats.ForChannels(channels));

    /// <summary>Runs the uint8 steps.</summary>
    public ByteImage Transform(ByteImage image, DataRng rng) => Transform(image, rng, new ImageScratch());

    /// <summary>Runs the uint8 steps with working memory from <paramref name="scratch"/> (allocation-free for the built-in steps).</summary>
    public ByteImage Transform(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        for (int i = 0; i < _steps.Length; i++) image = _steps[i].Apply(image, rng, scratch);
        return image;
    }

    /// <summary>Runs the steps and returns the normalised CHW floats.</summary>
    public float[] Apply(ByteImage image, DataRng rng)
    {
        ByteImage result = Transform(image, rng);
        var output = new float[result.Data.Length];
        Normalize(result, output);
        return output;
    }

    /// <summary>Writes <c>(pixel / 255 - mean[c]) / std[c]</c> of <paramref name="image"/> into <paramref name="destination"/> ([C, H, W]).</summary>
    public void Normalize(ByteImage image, Span<float> destination)
    {
        int plane = image.Height * image.Width;
        if (destination.Length != image.Data.Length)
            throw new ArgumentException($"destination holds {destination.Length} floats, the image {image.Data.Length}");
        if (Stats.Std.Length != Stats.Channels || (Stats.Channels != 1 && Stats.Channels != image.Channels))
            Stats.ForChannels(image.Channels);   // throws, naming the mismatch
        for (int c = 0; c < image.Channels; c++)
        {
            int s = Stats.Channels == 1 ? 0 : c;   // one-channel stats apply to every channel (ImageStats.ForChannels)
            float scale = 1f / (255f * Stats.Std[s]), shift = Stats.Mean[s] / Stats.Std[s];
            ReadOnlySpan<byte> src = image.Plane(c);
            Span<float> dst = destination.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = src[i] * scale - shift;
        }
    }
}
