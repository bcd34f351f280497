using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Plugins.Vit;

/// <summary>
/// The training and test splits of the configured dataset with their pipelines (docs/paper.md §3a):
/// training = RandomResizedCrop(image_size, scale = (crop_min_scale, 1)) → horizontal flip → channel
/// conversion → normalisation with the dataset's mean and std (Fashion-MNIST: [0, 1] then 0.2860 / 0.3530);
/// test = the image as it is when it already has the model's size, else resize the shorter side to
/// image_size·256/224 and centre-crop (the reference's validation transform), then the same normalisation.
/// </summary>
public sealed class VitData
{
    private VitData(string name, IImageDataset train, IImageDataset test, ImagePipeline trainPipeline, ImagePipeline testPipeline)
    {
        Name = name;
        Train = train;
        Test = test;
        TrainPipeline = trainPipeline;
        TestPipeline = testPipeline;
    }

    /// <summary>Dataset name (<c>data.dataset</c>).</summary>
    public string Name { get; }

    /// <summary>Training split (after <c>data.train_limit</c>).</summary>
    public IImageDataset Train { get; }

    /// <summary>Test split (after <c>data.test_limit</c>).</summary>
    public IImageDataset Test { get; }

    /// <summary>Augmenting pipeline of the training split.</summary>
    public ImagePipeline TrainPipeline { get; }

    /// <summary>Deterministic pipeline of the test split (also used for white-box and attention images).</summary>
    public ImagePipeline TestPipeline { get; }

    /// <summary>Loads both splits from <paramref name="directory"/> and checks them against <paramref name="shape"/>.</summary>
    public static VitData Load(ResolvedConfig config, string directory, VisionShape shape) =>
        Load(config, directory, shape, loadTrain: true);

    /// <summary>Loads the test split only (checkpoint evaluation); <see cref="Train"/> is then the test split too.</summary>
    public static VitData LoadTest(ResolvedConfig config, string directory, VisionShape shape) =>
        Load(config, directory, shape, loadTrain: false);

    private static VitData Load(ResolvedConfig config, string directory, VisionShape shape, bool loadTrain)
    {
        string name = config.Get(VitKeys.Dataset);
        var test = Limit(ImageDatasets.Load(name, directory, train: false, shape.Channels), config.GetInt(VitKeys.TestLimit));
        var train = loadTrain ? Limit(ImageDatasets.Load(name, directory, train: true, shape.Channels), config.GetInt(VitKeys.TrainLimit)) : test;
        if (test.ClassNames.Count != shape.NumClasses)
            throw new ConfigException($"config key 'model.num_classes' is {shape.NumClasses}, but dataset '{name}' in {directory} " +
                                      $"has {test.ClassNames.Count} classes; set --set model.num_classes={test.ClassNames.Count}");
        if (train.ClassNames.Count != test.ClassNames.Count)
            throw new ConfigException($"dataset '{name}' in {directory}: the training split has {train.ClassNames.Count} classes, the test split {test.ClassNames.Count}");

        var stats = ImageDatasets.Stats(name);
        if (stats.Channels == 3 && shape.Channels == 1)
            throw new ConfigException($"config key 'model.channels' is 1 but dataset '{name}' is RGB with per-channel statistics; set model.channels=3");
        stats = stats.ForChannels(shape.Channels);
        int size = shape.ImageSize;
        bool native = NativeSize(test) == size;
        IImageTransform[] geometry = native ? [] : [new ResizeShorterSide((int)Math.Round(size * 256.0 / 224.0)), new CenterCrop(size)];

        var trainSteps = new List<IImageTransform>();
        if (config.Get(VitKeys.RandomResizedCrop))
            trainSteps.Add(new RandomResizedCrop(size, size, MinScale: config.Get(VitKeys.CropMinScale)));
        else
            trainSteps.AddRange(geometry);
        if (config.Get(VitKeys.HorizontalFlip) > 0) trainSteps.Add(new RandomHorizontalFlip(config.Get(VitKeys.HorizontalFlip)));
        trainSteps.Add(new ToChannels(shape.Channels));
        var testPipeline = new ImagePipeline([.. geometry, new ToChannels(shape.Channels)], stats);
        return new VitData(name, train, test, new ImagePipeline(trainSteps, stats), testPipeline);
    }

    /// <summary>The side of an in-memory dataset's square images, or 0 when sizes vary (ImageFolder).</summary>
    private static int NativeSize(IImageDataset data) =>
        data is ImageDataset d && d.Height == d.Width ? d.Height
        : data is ImageSubset { Source: ImageDataset s } && s.Height == s.Width ? s.Height : 0;

    private static IImageDataset Limit(IImageDataset data, int limit) => ImageSubset.Limit(data, limit);
}
