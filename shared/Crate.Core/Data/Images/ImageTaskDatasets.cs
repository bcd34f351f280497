using Crate.Core.Contract;

namespace Crate.Core.Data.Images;

/// <summary>
/// The datasets an image task's <c>data.dataset</c> (<see cref="ImageKeys.Dataset"/>) can name, with their formats and
/// how to get them: an <see cref="IImageTask"/> declares <see cref="All"/> as its <see cref="ICrateTask.Datasets"/> and
/// <see cref="Required"/> as its <see cref="ICrateTask.RequiredDatasets"/>. <see cref="ImageDatasets.Load"/> reads them.
/// </summary>
public static class ImageTaskDatasets
{
    /// <summary>fashion-mnist (shipped subset), mnist, cifar10, cifar100, imagefolder.</summary>
    public static IReadOnlyList<DatasetNeed> All { get; } =
    [
        new("fashion-mnist", "Fashion-MNIST as gzipped or raw IDX files (train-*/t10k-* images and labels)", "fashion-mnist",
            SystemPath: "/usr/share/datasets/fashion-mnist",
            HowToGet: "The repository ships a 12,000/2,000 subset in data/fashion-mnist; the full set: apt-get install dataset-fashion-mnist (Debian), " +
                      "or any folder holding the four IDX files."),
        new("mnist", "MNIST as gzipped or raw IDX files (train-*/t10k-* images and labels)", null,
            HowToGet: "Download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz " +
                      "(Yann LeCun's MNIST page or a mirror) into one folder; use --set data.dataset=mnist (and, where the task flips, --set data.hflip=0)."),
        new("cifar10", "CIFAR-10, binary version: data_batch_1..5.bin, test_batch.bin (the cifar-10-batches-bin folder or its parent)", null,
            HowToGet: "Download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and extract it; " +
                      "use --set data.dataset=cifar10 (channels, classes, the 32 px size and a patch size that divides it follow the data)."),
        new("cifar100", "CIFAR-100, binary version: train.bin, test.bin (the cifar-100-binary folder or its parent), fine labels", null,
            HowToGet: "Download cifar-100-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and extract it; " +
                      "use --set data.dataset=cifar100 (channels, 100 classes, the 32 px size and a patch size that divides it follow the data)."),
        new("imagefolder", "ImageNet-1K or any set in the torchvision ImageFolder layout: DIR/train/<class>/* and DIR/val/<class>/* (JPEG, PNG, BMP, GIF)", null,
            HowToGet: "For ImageNet-1K download ILSVRC2012 from image-net.org (after registration), extract the training archive into train/<wnid>/ and " +
                      "sort the 50,000 validation images into val/<wnid>/ folders; the paper preset reads it."),
    ];

    /// <summary>The names of <see cref="All"/>, the choices of <c>data.dataset</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToArray();

    /// <summary>The one dataset a run of <paramref name="config"/> reads: its <c>data.dataset</c>.</summary>
    public static IReadOnlyList<string> Required(ResolvedConfig config) => [config.Get(ImageKeys.Dataset)];
}
