using Crate.Core.Data.Images;

namespace Crate.Tests.Data;

public class FashionMnistSubsetTests
{
    private static string Folder => Path.Combine(DataTestFiles.RepoRoot(), "data", "fashion-mnist");

    [Fact]
    public void Shipped_subset_has_the_documented_counts_and_balance()
    {
        ImageDataset train = IdxDatasets.LoadFashionMnist(Folder, train: true);
        ImageDataset test = IdxDatasets.LoadFashionMnist(Folder, train: false);

        Assert.Equal((12_000, 1, 28, 28), (train.Count, train.Channels, train.Height, train.Width));
        Assert.Equal(2_000, test.Count);
        Assert.All(train.ClassCounts(), n => Assert.Equal(1_200, n));
        Assert.All(test.ClassCounts(), n => Assert.Equal(200, n));
        // First in file order, as in the original: train starts 9, 0, 0, 3; t10k starts 9, 2, 1, 1.
        Assert.Equal([9, 0, 0, 3], train.Labels.Take(4));
        Assert.Equal([9, 2, 1, 1], test.Labels.Take(4));
    }

    [Fact]
    public void Shipped_subset_statistics_match_the_documented_normalisation()
    {
        ImageStats measured = ImageStats.Compute(IdxDatasets.LoadFashionMnist(Folder, train: true));

        Assert.Equal(ImageStats.FashionMnist.Mean[0], measured.Mean[0], 0.01f);
        Assert.Equal(ImageStats.FashionMnist.Std[0], measured.Std[0], 0.01f);
    }
}

public class ImageDatasetsTests
{
    [Fact]
    public void Names_map_to_readers_and_statistics()
    {
        string repo = DataTestFiles.RepoRoot();
        IImageDataset test = ImageDatasets.Load("fashion-mnist", Path.Combine(repo, "data", "fashion-mnist"), train: false);
        Assert.Equal(2_000, test.Count);
        Assert.Same(ImageStats.FashionMnist, ImageDatasets.Stats("fashion-mnist"));
        Assert.Same(ImageStats.ImageNet, ImageDatasets.Stats("imagefolder"));

        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "val", "only"));
        File.WriteAllBytes(Path.Combine(dir.Path, "val", "only", "x.png"), DataTestFiles.SolidPng(3, 3, 1, 2, 3));
        IImageDataset val = ImageDatasets.Load("imagefolder", dir.Path, train: false, imageFolderChannels: 1);
        Assert.Equal((1, 1), (val.Count, val.Channels));

        Assert.Throws<ArgumentException>(() => ImageDatasets.Load("svhn", dir.Path, train: true));
    }
}
