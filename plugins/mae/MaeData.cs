using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Modules;

namespace Crate.Plugins.Mae;

/// <summary>
/// The splits of the configured dataset and their pipelines: training (pre-training and fine-tuning) =
/// RandomResizedCrop(image_size, scale = (crop_min_scale, 1)) → horizontal flip → channel conversion → the
/// dataset's normalisation (MAE pre-training's transform; the loss is on normalised pixels as in the reference);
/// test = the image as it is when it has the model's size, else resize the shorter side to image_size·256/224
/// and centre-crop, then the same normalisation. The probes read the training split through the test pipeline.
/// </summary>
public sealed class MaeData
{
    private MaeData(string name, IImageDataset train, IImageDataset test, ImagePipeline trainPipeline, ImagePipeline testPipeline, ImageStats stats)
    {
        Name = name; Train = train; Test = test; TrainPipeline = trainPipeline; TestPipeline = testPipeline; Stats = stats;
    }

    /// <summary>Dataset name.</summary>
    public string Name { get; }

    /// <summary>Training split (after <c>data.train_limit</c>).</summary>
    public IImageDataset Train { get; }

    /// <summary>Test split (after <c>data.test_limit</c>).</summary>
    public IImageDataset Test { get; }

    /// <summary>Augmenting pipeline.</summary>
    public ImagePipeline TrainPipeline { get; }

    /// <summary>Deterministic pipeline (test, probes, figures, white-box).</summary>
    public ImagePipeline TestPipeline { get; }

    /// <summary>Per-channel mean and std of the normalisation (to turn predictions back into pixels).</summary>
    public ImageStats Stats { get; }

    /// <summary>Loads both splits (or, with <paramref name="loadTrain"/> false, the test split as both) and checks them against the config.</summary>
    public static MaeData Load(ResolvedConfig config, string directory, MaeConfig shape, bool loadTrain = true)
    {
        string name = config.Get(MaeKeys.Dataset);
        int classes = config.GetInt(MaeKeys.NumClasses);
        var test = Limit(ImageDatasets.Load(name, directory, train: false, shape.Channels), config.GetInt(MaeKeys.TestLimit));
        var train = loadTrain ? Limit(ImageDatasets.Load(name, directory, train: true, shape.Channels), config.GetInt(MaeKeys.TrainLimit)) : test;
        if (test.ClassNames.Count != classes)
            throw new ConfigException($"config key 'model.num_classes' is {classes}, but dataset '{name}' in {directory} " +
                                      $"has {test.ClassNames.Count} classes; set --set model.num_classes={test.ClassNames.Count}");
        var stats = ImageDatasets.Stats(name);
        if (stats.Channels == 3 && shape.Channels == 1)
            throw new ConfigException($"config key 'model.channels' is 1 but dataset '{name}' is RGB with per-channel statistics; set model.channels=3");
        stats = stats.ForChannels(shape.Channels);
        int size = shape.ImageSize;
        IImageTransform[] geometry = NativeSize(test) == size ? [] : [new ResizeShorterSide((int)Math.Round(size * 256.0 / 224.0)), new CenterCrop(size, size)];
        var trainSteps = new List<IImageTransform>();
        if (config.Get(MaeKeys.RandomResizedCrop))
            trainSteps.Add(new RandomResizedCrop(size, size, MinScale: config.Get(MaeKeys.CropMinScale)));
        else
            trainSteps.AddRange(geometry);
        if (config.Get(MaeKeys.HorizontalFlip) > 0) trainSteps.Add(new RandomHorizontalFlip(config.Get(MaeKeys.HorizontalFlip)));
        trainSteps.Add(new ToChannels(shape.Channels));
        return new MaeData(name, train, test, new ImagePipeline(trainSteps, stats),
            new ImagePipeline([.. geometry, new ToChannels(shape.Channels)], stats), stats);
    }

    /// <summary><paramref name="data"/> limited to <paramref name="limit"/> evenly spaced samples (0: all).</summary>
    public static IImageDataset Limit(IImageDataset data, int limit) =>
        limit <= 0 || limit >= data.Count ? data : new SubsetDataset(data, Enumerable.Range(0, limit).Select(k => (int)((long)k * data.Count / limit)).ToArray());

    private static int NativeSize(IImageDataset data) =>
        data is ImageDataset d && d.Height == d.Width ? d.Height
        : data is SubsetDataset { Source: ImageDataset s } && s.Height == s.Width ? s.Height : 0;
}

/// <summary>A view of <see cref="Source"/> restricted to some indices (every class of a class-sorted folder stays in an evenly spaced subset).</summary>
public sealed class SubsetDataset(IImageDataset source, int[] indices) : IImageDataset
{
    /// <summary>The dataset viewed.</summary>
    public IImageDataset Source => source;

    /// <inheritdoc/>
    public string Name => $"{source.Name}[{indices.Length}]";

    /// <inheritdoc/>
    public int Count => indices.Length;

    /// <inheritdoc/>
    public int Channels => source.Channels;

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames => source.ClassNames;

    /// <inheritdoc/>
    public int GetLabel(int index) => source.GetLabel(indices[index]);

    /// <inheritdoc/>
    public ByteImage GetImage(int index) => source.GetImage(indices[index]);

    /// <inheritdoc/>
    public ByteImage GetImage(int index, ImageScratch scratch) => source.GetImage(indices[index], scratch);
}
