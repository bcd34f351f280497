using Crate.Core.Data;
using Crate.Core.Data.Images;

namespace Crate.Tests.Data;

public class CifarReaderTests
{
    [Fact]
    public void Cifar10_reads_records_as_chw_with_labels_and_meta_names()
    {
        using var dir = new TempDir();
        string batches = Path.Combine(dir.Path, "cifar-10-batches-bin");
        Directory.CreateDirectory(batches);
        for (int b = 1; b <= 5; b++)
            File.WriteAllBytes(Path.Combine(batches, $"data_batch_{b}.bin"), DataTestFiles.CifarRecords(2, i => [(byte)((b + i) % 10)]));
        File.WriteAllBytes(Path.Combine(batches, "test_batch.bin"), DataTestFiles.CifarRecords(3, i => [(byte)(9 - i)]));
        File.WriteAllLines(Path.Combine(batches, "batches.meta.txt"),
            ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck", ""]);

        ImageDataset train = Cifar.Load10(dir.Path, train: true);   // the parent folder works too
        ImageDataset test = Cifar.Load10(batches, train: false);

        Assert.Equal((10, 3, 32, 32), (train.Count, train.Channels, train.Height, train.Width));
        Assert.Equal([1, 2, 2, 3, 3, 4, 4, 5, 5, 6], train.Labels);
        Assert.Equal([9, 8, 7], test.Labels);
        Assert.Equal("plane", test.ClassNames[0]);
        ByteImage img = test.GetImage(2);
        // Record 2: plane c, pixel p at (y, x) = (p / 32, p % 32).
        Assert.Equal(DataTestFiles.CifarPixel(2, 0, 0), img[0, 0, 0]);
        Assert.Equal(DataTestFiles.CifarPixel(2, 1, 33), img[1, 1, 1]);
        Assert.Equal(DataTestFiles.CifarPixel(2, 2, 1023), img[2, 31, 31]);
    }

    [Theory]
    [InlineData(Cifar100Label.Fine, new[] { 42, 43, 44, 45 })]
    [InlineData(Cifar100Label.Coarse, new[] { 0, 1, 2, 3 })]
    public void Cifar100_picks_fine_or_coarse_labels(Cifar100Label label, int[] expected)
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("train.bin"), DataTestFiles.CifarRecords(4, i => [(byte)i, (byte)(42 + i)]));

        ImageDataset ds = Cifar.Load100(dir.Path, train: true, label);

        Assert.Equal(expected, ds.Labels);
        Assert.Equal(label == Cifar100Label.Fine ? 100 : 20, ds.ClassNames.Count);
        Assert.Equal(DataTestFiles.CifarPixel(3, 2, 5), ds.GetImage(3)[2, 0, 5]);
    }

    [Theory]
    [InlineData(3073 * 2 + 100)]
    [InlineData(0)]
    public void File_size_not_a_multiple_of_the_record_is_reported(int length)
    {
        using var dir = new TempDir();
        string path = dir.File("test_batch.bin");
        File.WriteAllBytes(path, new byte[length]);

        var e = Assert.Throws<DatasetException>(() => Cifar.Load10(dir.Path, train: false));

        Assert.Equal(DataErrorKind.BadRecordSize, e.Kind);
        Assert.Equal(path, e.FilePath);
        Assert.Contains("3073-byte record", e.Message);
    }

    [Fact]
    public void Cifar100_file_read_as_cifar10_fails_on_size_or_label()
    {
        using var dir = new TempDir();
        string path = dir.File("test_batch.bin");
        File.WriteAllBytes(path, DataTestFiles.CifarRecords(3, i => [1, 77]));   // 3 x 3074 bytes

        var e = Assert.Throws<DatasetException>(() => Cifar.Load10(dir.Path, train: false));

        Assert.Equal(DataErrorKind.BadRecordSize, e.Kind);
    }

    [Fact]
    public void Label_outside_the_classes_is_reported()
    {
        using var dir = new TempDir();
        string path = dir.File("test.bin");
        File.WriteAllBytes(path, DataTestFiles.CifarRecords(2, i => [(byte)(i * 25), 0]));   // coarse 0, 25

        var e = Assert.Throws<DatasetException>(() => Cifar.Load100(dir.Path, train: false, Cifar100Label.Coarse));

        Assert.Equal(DataErrorKind.BadLabel, e.Kind);
        Assert.Contains("record 1 has label 25", e.Message);
    }

    [Fact]
    public void Missing_batch_file_is_reported()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("data_batch_1.bin"), DataTestFiles.CifarRecords(1, i => [0]));

        var e = Assert.Throws<DatasetException>(() => Cifar.Load10(dir.Path, train: true));

        Assert.Equal(DataErrorKind.Missing, e.Kind);
        Assert.EndsWith("data_batch_2.bin", e.FilePath);
    }
}
