namespace Crate.Core.Data.Images.Transforms;

/// <summary>
/// DINO's multi-crop views (<c>DataAugmentationDINO</c> in main_dino.py) as pipelines for an
/// <see cref="ImageBatchLoader"/>: 2 global crops and <c>localCrops</c> local crops, each
/// RandomResizedCrop → channel conversion → horizontal flip (0.5) → colour jitter (0.4, 0.4, 0.2, 0.1)
/// with p 0.8 → grey with p 0.2 → Gaussian blur (σ 0.1..2) → normalise; global view 1 is always blurred,
/// global view 2 blurred with p 0.1 and solarised with p 0.2, local views blurred with p 0.5. Differences
/// from the reference: bilinear (antialiased) instead of bicubic resampling, a true Gaussian instead of
/// PIL's box-approximated blur (see <see cref="GaussianBlur"/>).
/// </summary>
public static class DinoViews
{
    /// <summary>
    /// The 2 + <paramref name="localCrops"/> pipelines in DINO's order (globals first). Scales are
    /// DINO's defaults: global crops cover 0.4..1 of the image, local crops 0.05..0.4.
    /// </summary>
    public static IReadOnlyList<ImagePipeline> Create(int localCrops, ImageStats stats, int channels, int globalSize = 224,
        int localSize = 96, double globalMinScale = 0.4, double localMaxScale = 0.4, double localMinScale = 0.05)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(localCrops);
        var views = new List<ImagePipeline>
        {
            View(new RandomResizedCrop(globalSize, globalSize, globalMinScale, 1.0), channels, stats, new GaussianBlur(1.0)),
            View(new RandomResizedCrop(globalSize, globalSize, globalMinScale, 1.0), channels, stats, new GaussianBlur(0.1), new Solarize(0.2)),
        };
        for (int i = 0; i < localCrops; i++)
            views.Add(View(new RandomResizedCrop(localSize, localSize, localMinScale, localMaxScale), channels, stats, new GaussianBlur(0.5)));
        return views;
    }

    private static ImagePipeline View(RandomResizedCrop crop, int channels, ImageStats stats, params IImageTransform[] tail) =>
        new([crop, new ToChannels(channels), new RandomHorizontalFlip(0.5), new ColorJitter(0.4, 0.4, 0.2, 0.1, Probability: 0.8),
            new RandomGrayscale(0.2), .. tail], stats.ForChannels(channels));
}
