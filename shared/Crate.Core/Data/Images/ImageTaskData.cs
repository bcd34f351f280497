using Crate.Core.Contract;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Core.Data.Images;

/// <summary>
/// The data of a supervised or masked-image task (vit, mae) at its model's input size: the splits
/// (<see cref="ImageSplits"/>) and two pipelines (docs/paper.md §3a, §3c). Training = RandomResizedCrop(image_size,
/// scale = (<c>data.crop_min_scale</c>, 1)) when <c>data.random_resized_crop</c> is on (else the test geometry) →
/// horizontal flip with probability <c>data.hflip</c> → channel conversion → the dataset's normalisation
/// (Fashion-MNIST: [0, 1] then 0.2860 / 0.3530); test = <see cref="ImageSplits.TestPipeline"/>.
/// </summary>
public sealed class ImageTaskData
{
    private ImageTaskData(ImageSplits splits, ImagePipeline trainPipeline, ImagePipeline testPipeline)
    {
        Splits = splits; TrainPipeline = trainPipeline; TestPipeline = testPipeline;
    }

    /// <summary>The splits and their checks.</summary>
    public ImageSplits Splits { get; }

    /// <summary>Dataset name (<c>data.dataset</c>).</summary>
    public string Name => Splits.Name;

    /// <summary>Training split (after <c>data.train_limit</c>); the test split when only that was loaded.</summary>
    public IImageDataset Train => Splits.Train;

    /// <summary>Test split (after <c>data.test_limit</c>).</summary>
    public IImageDataset Test => Splits.Test;

    /// <summary>Per-channel mean and std of the normalisation (to turn predictions back into pixels).</summary>
    public ImageStats Stats => Splits.Stats;

    /// <summary>Augmenting pipeline of the training split.</summary>
    public ImagePipeline TrainPipeline { get; }

    /// <summary>Deterministic pipeline (test, probes of the training split, figures, white-box rows).</summary>
    public ImagePipeline TestPipeline { get; }

    /// <summary>
    /// Loads both splits (or, with <paramref name="loadTrain"/> false, the test split as both) for a model of
    /// <paramref name="channels"/> channels, <paramref name="imageSize"/> px and <paramref name="numClasses"/> classes.
    /// </summary>
    public static ImageTaskData Load(ResolvedConfig config, string directory, int channels, int imageSize, int numClasses, bool loadTrain = true)
    {
        var splits = ImageSplits.Load(config, directory, channels, numClasses, loadTrain);
        var test = splits.TestPipeline(imageSize);
        var steps = new List<IImageTransform>();
        if (config.Get(ImageKeys.RandomResizedCrop))
            steps.Add(new RandomResizedCrop(imageSize, imageSize, MinScale: config.Get(ImageKeys.CropMinScale)));
        else
            steps.AddRange(splits.TestGeometry(imageSize));
        if (config.Get(ImageKeys.HorizontalFlip) > 0) steps.Add(new RandomHorizontalFlip(config.Get(ImageKeys.HorizontalFlip)));
        steps.Add(new ToChannels(channels));
        return new ImageTaskData(splits, new ImagePipeline(steps, splits.Stats), test);
    }
}
