using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Plugins.Dino;

/// <summary>
/// The splits of the configured dataset with DINO's multi-crop views for training (<see cref="DinoViews.Create"/>:
/// 2 global crops of <c>data.global_size</c>, area <c>data.global_min_scale</c>..1, and <c>data.local_crops</c> local
/// crops of <c>data.local_size</c>, area <c>data.local_min_scale</c>..<c>data.local_max_scale</c>; flip, colour
/// jitter (on grey images only brightness and contrast act), grey, blur, solarisation) and a deterministic test
/// pipeline for the probes (the image as it is at the global size, else resize to size·256/224 and centre-crop).
/// Labels are read only by the probes.
/// </summary>
public sealed class DinoData
{
    private DinoData(string name, IImageDataset train, IImageDataset test, IReadOnlyList<ImagePipeline> views, ImagePipeline testPipeline)
    {
        Name = name;
        Train = train;
        Test = test;
        Views = views;
        TestPipeline = testPipeline;
    }

    /// <summary>Dataset name.</summary>
    public string Name { get; }

    /// <summary>Training split (after <c>data.train_limit</c>): DINO's training images and the probes' training set.</summary>
    public IImageDataset Train { get; }

    /// <summary>Test split (after <c>data.test_limit</c>).</summary>
    public IImageDataset Test { get; }

    /// <summary>The 2 + N view pipelines, globals first.</summary>
    public IReadOnlyList<ImagePipeline> Views { get; }

    /// <summary>Deterministic pipeline for features, attention maps and white-box rows.</summary>
    public ImagePipeline TestPipeline { get; }

    /// <summary>Classes of the dataset (for the probes).</summary>
    public int NumClasses => Test.ClassNames.Count;

    /// <summary>Loads both splits from <paramref name="directory"/> for a backbone of <paramref name="channels"/> channels (<see cref="ImageSplits.Load"/>).</summary>
    public static DinoData Load(ResolvedConfig config, string directory, int channels)
    {
        var splits = ImageSplits.Load(config, directory, channels, numClasses: null);
        int global = config.GetInt(DinoKeys.GlobalSize);
        var views = DinoViews.Create(config.GetInt(DinoKeys.LocalCrops), splits.Stats, channels, global, config.GetInt(DinoKeys.LocalSize),
            config.Get(DinoKeys.GlobalMinScale), config.Get(DinoKeys.LocalMaxScale), config.Get(DinoKeys.LocalMinScale));
        return new DinoData(splits.Name, splits.Train, splits.Test, views, splits.TestPipeline(global));
    }
}
