namespace Crate.Core.Data.Images;

/// <summary>
/// MNIST-style datasets stored as IDX file pairs: <c>{train,t10k}-images-idx3-ubyte[.gz]</c> with
/// <c>{train,t10k}-labels-idx1-ubyte[.gz]</c> (Fashion-MNIST uses the same names).
/// </summary>
public static class IdxDatasets
{
    /// <summary>Fashion-MNIST classes (Zalando), label order.</summary>
    public static readonly IReadOnlyList<string> FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>MNIST classes: the digits 0..9.</summary>
    public static readonly IReadOnlyList<string> MnistClasses = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Loads the Fashion-MNIST training (60,000; 12,000 in the shipped subset) or test split from <paramref name="directory"/>.</summary>
    public static ImageDataset LoadFashionMnist(string directory, bool train) =>
        LoadFolder(directory, train, FashionMnistClasses, "fashion-mnist");

    /// <summary>Loads the MNIST training or test split from <paramref name="directory"/>.</summary>
    public static ImageDataset LoadMnist(string directory, bool train) =>
        LoadFolder(directory, train, MnistClasses, "mnist");

    /// <summary>
    /// Loads <c>train-*</c> (or <c>t10k-*</c>) images and labels from <paramref name="directory"/>; each file
    /// may be raw or gzipped (the <c>.gz</c> name is tried when the raw one is absent).
    /// </summary>
    public static ImageDataset LoadFolder(string directory, bool train, IReadOnlyList<string> classNames, string name)
    {
        DataFiles.RequireDirectory(directory);
        string prefix = train ? "train" : "t10k";
        string images = Find(directory, $"{prefix}-images-idx3-ubyte");
        string labels = Find(directory, $"{prefix}-labels-idx1-ubyte");
        return Load(images, labels, classNames, $"{name}/{(train ? "train" : "test")}");
    }

    /// <summary>Loads one images file (<c>[N, H, W]</c>) and its labels file (<c>[N]</c>), checking that they agree.</summary>
    public static ImageDataset Load(string imagesPath, string labelsPath, IReadOnlyList<string> classNames, string name)
    {
        IdxArray images = IdxFile.Read(imagesPath);
        if (images.Shape.Length != 3)
            throw new DatasetException(imagesPath, DataErrorKind.Unsupported,
                $"an images file must be 3-D (count x height x width), this one is {images.Shape.Length}-D");
        IdxArray labels = IdxFile.Read(labelsPath);
        if (labels.Shape.Length != 1)
            throw new DatasetException(labelsPath, DataErrorKind.Unsupported,
                $"a labels file must be 1-D, this one is {labels.Shape.Length}-D");
        if (labels.Shape[0] != images.Shape[0])
            throw new DatasetException(labelsPath, DataErrorKind.CountMismatch,
                $"{labels.Shape[0]} labels but {imagesPath} holds {images.Shape[0]} images");

        var ids = new int[labels.Data.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = labels.Data[i];
            if (ids[i] >= classNames.Count)
                throw new DatasetException(labelsPath, DataErrorKind.BadLabel,
                    $"label {ids[i]} at index {i} is not one of the {classNames.Count} classes");
        }
        // IDX images are [N, H, W] = [N, 1, H, W]: already NCHW with one channel.
        return new ImageDataset(name, images.Data, ids, 1, images.Shape[1], images.Shape[2], classNames);
    }

    private static string Find(string directory, string baseName)
    {
        string raw = Path.Combine(directory, baseName);
        if (File.Exists(raw)) return raw;
        string gz = raw + ".gz";
        if (File.Exists(gz)) return gz;
        throw new DatasetException(directory, DataErrorKind.Missing, $"neither {baseName} nor {baseName}.gz is in this folder");
    }
}
