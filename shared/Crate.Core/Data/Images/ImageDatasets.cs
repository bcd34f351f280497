namespace Crate.Core.Data.Images;

/// <summary>
/// One entry point for the image datasets a task config can name: the reader and the normalisation
/// statistics of each, so a plugin maps <c>dataset: cifar10</c> plus <c>--data cifar10=DIR</c> to data.
/// </summary>
public static class ImageDatasets
{
    /// <summary>The names <see cref="Load"/> accepts.</summary>
    public static readonly IReadOnlyList<string> Names = ["fashion-mnist", "mnist", "cifar10", "cifar100", "cifar100-coarse", "imagefolder"];

    /// <summary>
    /// Loads the training or test split of dataset <paramref name="name"/> from <paramref name="directory"/>:
    /// IDX pairs for fashion-mnist and mnist, the binary batches for cifar10 / cifar100 (fine labels) /
    /// cifar100-coarse, and for imagefolder the subfolder <c>train</c> or <c>val</c> (the ImageNet layout),
    /// read lazily with a header check and decoded to <paramref name="imageFolderChannels"/> channels.
    /// </summary>
    public static IImageDataset Load(string name, string directory, bool train, int imageFolderChannels = 3) => name switch
    {
        "fashion-mnist" => IdxDatasets.LoadFashionMnist(directory, train),
        "mnist" => IdxDatasets.LoadMnist(directory, train),
        "cifar10" => Cifar.Load10(directory, train),
        "cifar100" => Cifar.Load100(directory, train, Cifar100Label.Fine),
        "cifar100-coarse" => Cifar.Load100(directory, train, Cifar100Label.Coarse),
        "imagefolder" => ImageFolderDataset.Open(Path.Combine(directory, train ? "train" : "val"), imageFolderChannels),
        _ => throw new ArgumentException($"unknown image dataset '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };

    /// <summary>The normalisation statistics used for dataset <paramref name="name"/> (ImageNet's for imagefolder).</summary>
    public static ImageStats Stats(string name) => name switch
    {
        "fashion-mnist" => ImageStats.FashionMnist,
        "mnist" => ImageStats.Mnist,
        "cifar10" => ImageStats.Cifar10,
        "cifar100" or "cifar100-coarse" => ImageStats.Cifar100,
        "imagefolder" => ImageStats.ImageNet,
        _ => throw new ArgumentException($"unknown image dataset '{name}' (known: {string.Join(", ", Names)})", nameof(name)),
    };
}
