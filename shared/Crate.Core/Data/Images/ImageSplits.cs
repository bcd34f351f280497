using Crate.Core.Contract;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Core.Data.Images;

/// <summary>
/// The training and test splits of an image task's <c>data.dataset</c> after <c>data.train_limit</c> and
/// <c>data.test_limit</c> (evenly spaced subsets, <see cref="ImageSubset.Limit"/>), checked against the config:
/// the model's classes (<c>model.num_classes</c>, where the task's model has a head) must be the dataset's, both splits must have the same classes, and
/// an RGB dataset cannot feed a 1-channel model (<see cref="ConfigException"/>s naming the key). The pipelines over them
/// are the task's: <see cref="ImageTaskData"/> for the supervised augmentation, dino's own multi-crop views.
/// </summary>
public sealed class ImageSplits
{
    private ImageSplits(string name, string directory, IImageDataset train, IImageDataset test, int channels, ImageStats stats)
    {
        Name = name; Directory = directory; Train = train; Test = test; Channels = channels; Stats = stats;
    }

    /// <summary>Dataset name (<c>data.dataset</c>).</summary>
    public string Name { get; }

    /// <summary>The folder it was read from.</summary>
    public string Directory { get; }

    /// <summary>Training split (after <c>data.train_limit</c>); the test split when only that was loaded.</summary>
    public IImageDataset Train { get; }

    /// <summary>Test split (after <c>data.test_limit</c>).</summary>
    public IImageDataset Test { get; }

    /// <summary>Channels the model reads (images are converted to them).</summary>
    public int Channels { get; }

    /// <summary>The dataset's normalisation (<see cref="ImageDatasets.Stats"/>) for <see cref="Channels"/> channels.</summary>
    public ImageStats Stats { get; }

    /// <summary>The dataset's classes.</summary>
    public int NumClasses => Test.ClassNames.Count;

    /// <summary>
    /// Loads both splits (or, with <paramref name="loadTrain"/> false, the test split as both) for a model of
    /// <paramref name="channels"/> channels and <paramref name="numClasses"/> classes (null: the model has no class head).
    /// </summary>
    public static ImageSplits Load(ResolvedConfig config, string directory, int channels, int? numClasses, bool loadTrain = true)
    {
        string name = config.Get(ImageKeys.Dataset);
        var test = ImageSubset.Limit(ImageDatasets.Load(name, directory, train: false, channels), config.GetInt(ImageKeys.TestLimit));
        var train = loadTrain ? ImageSubset.Limit(ImageDatasets.Load(name, directory, train: true, channels), config.GetInt(ImageKeys.TrainLimit)) : test;
        if (numClasses is int classes && test.ClassNames.Count != classes)
            throw new ConfigException($"config key 'model.num_classes' is {classes}, but dataset '{name}' in {directory} " +
                                      $"has {test.ClassNames.Count} classes; set --set model.num_classes={test.ClassNames.Count}");
        if (train.ClassNames.Count != test.ClassNames.Count)
            throw new ConfigException($"dataset '{name}' in {directory}: the training split has {train.ClassNames.Count} classes, the test split {test.ClassNames.Count}");
        var stats = ImageDatasets.Stats(name);
        if (stats.Channels == 3 && channels == 1)
            throw new ConfigException($"config key 'model.channels' is 1 but dataset '{name}' is RGB with per-channel statistics; set model.channels=3");
        return new ImageSplits(name, directory, train, test, channels, stats.ForChannels(channels));
    }

    /// <summary>
    /// The deterministic pipeline at <paramref name="size"/> px (test, probes, figures, white-box rows): the images as
    /// they are when the dataset already has that fixed size, else the shorter side resized to size·256/224 and a
    /// centre crop (the reference's validation transform); then channel conversion and the dataset's normalisation.
    /// </summary>
    public ImagePipeline TestPipeline(int size) => new([.. TestGeometry(size), new ToChannels(Channels)], Stats);

    /// <summary>The geometric steps of <see cref="TestPipeline"/>: none at the dataset's own fixed size, else resize and centre crop.</summary>
    public IReadOnlyList<IImageTransform> TestGeometry(int size) =>
        FixedSide(Test) == size ? [] : [new ResizeShorterSide((int)Math.Round(size * 256.0 / 224.0)), new CenterCrop(size)];

    /// <summary>The side of an in-memory dataset's square images (also behind a limit), or 0 when sizes vary (ImageFolder).</summary>
    public static int FixedSide(IImageDataset data) => data switch
    {
        ImageDataset d when d.Height == d.Width => d.Height,
        ImageSubset { Source: var source } => FixedSide(source),
        _ => 0,
    };
}
