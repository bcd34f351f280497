using Crate.Core.Data;
using Crate.Core.Data.Images;

namespace Crate.Tests.Data;

public class IdxReaderTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loads_images_and_labels_raw_or_gzipped(bool gzip)
    {
        using var dir = new TempDir();
        var (pixels, labels) = DataTestFiles.WriteIdxPair(dir.Path, "train", n: 23, h: 5, w: 4, gzip);

        ImageDataset ds = IdxDatasets.LoadFashionMnist(dir.Path, train: true);

        Assert.Equal((23, 1, 5, 4), (ds.Count, ds.Channels, ds.Height, ds.Width));
        Assert.Equal(pixels, ds.Pixels.ToArray());
        Assert.Equal(labels.Select(l => (int)l), ds.Labels);
        Assert.Equal("Ankle boot", ds.ClassNames[9]);
        ByteImage third = ds.GetImage(2);
        Assert.Equal(pixels[2 * 20 + 1 * 4 + 3], third[0, 1, 3]);
    }

    [Fact]
    public void Gzip_is_detected_by_magic_not_by_name()
    {
        using var dir = new TempDir();
        DataTestFiles.WriteIdxPair(dir.Path, "t10k", n: 4, h: 2, w: 2, gzip: true);
        // Gzipped content behind the raw names.
        File.Move(dir.File("t10k-images-idx3-ubyte.gz"), dir.File("t10k-images-idx3-ubyte"));
        File.Move(dir.File("t10k-labels-idx1-ubyte.gz"), dir.File("t10k-labels-idx1-ubyte"));

        ImageDataset ds = IdxDatasets.LoadMnist(dir.Path, train: false);

        Assert.Equal(4, ds.Count);
        Assert.Equal([0, 1, 2, 3], ds.Labels);
    }

    [Fact]
    public void Truncated_data_is_reported_with_the_file()
    {
        using var dir = new TempDir();
        byte[] full = DataTestFiles.Idx([3, 2, 2], new byte[12]);
        string path = dir.File("x-images-idx3-ubyte");
        File.WriteAllBytes(path, full[..^5]);

        var e = Assert.Throws<DatasetException>(() => IdxFile.Read(path));

        Assert.Equal(DataErrorKind.Truncated, e.Kind);
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains("only 7 follow", e.Message);
    }

    [Fact]
    public void Truncated_gzip_is_reported()
    {
        using var dir = new TempDir();
        var rng = new Random(1);
        var data = new byte[4000];
        rng.NextBytes(data);   // incompressible, so the cut removes data, not just the trailer
        byte[] gz = DataTestFiles.Gzip(DataTestFiles.Idx([10, 20, 20], data));
        string path = dir.File("cut.gz");
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);

        var e = Assert.Throws<DatasetException>(() => IdxFile.Read(path));

        Assert.Contains(e.Kind, new[] { DataErrorKind.Truncated, DataErrorKind.Corrupt });
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Corrupt_gzip_stream_is_reported()
    {
        using var dir = new TempDir();
        byte[] gz = DataTestFiles.Gzip(DataTestFiles.Idx([50, 20], Enumerable.Range(0, 1000).Select(i => (byte)(i * 31)).ToArray()));
        for (int i = 12; i < 40; i++) gz[i] ^= 0x5A;   // scramble the deflate data after the 10-byte header
        string path = dir.File("bad.gz");
        File.WriteAllBytes(path, gz);

        var e = Assert.Throws<DatasetException>(() => IdxFile.Read(path));

        Assert.Contains(e.Kind, new[] { DataErrorKind.Corrupt, DataErrorKind.Truncated, DataErrorKind.BadMagic });
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Wrong_magic_number_is_reported()
    {
        using var dir = new TempDir();
        byte[] bytes = DataTestFiles.Idx([2], [1, 2]);
        bytes[0] = 0x50;   // e.g. a text or image file given by mistake
        string path = dir.File("labels");
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<DatasetException>(() => IdxFile.Read(path));

        Assert.Equal(DataErrorKind.BadMagic, e.Kind);
        Assert.Contains("0x50000801", e.Message);
    }

    [Fact]
    public void Non_byte_element_type_is_unsupported()
    {
        using var dir = new TempDir();
        string path = dir.File("floats");
        File.WriteAllBytes(path, DataTestFiles.Idx([1], [0, 0, 0, 0], type: 0x0D));

        var e = Assert.Throws<DatasetException>(() => IdxFile.Read(path));

        Assert.Equal(DataErrorKind.Unsupported, e.Kind);
    }

    [Fact]
    public void Trailing_bytes_are_reported()
    {
        using var dir = new TempDir();
        string path = dir.File("long");
        File.WriteAllBytes(path, [.. DataTestFiles.Idx([2], [1, 2]), 9]);

        var e = Assert.Throws<DatasetException>(() => IdxFile.Read(path));

        Assert.Equal(DataErrorKind.Corrupt, e.Kind);
        Assert.Contains("trailing", e.Message);
    }

    [Fact]
    public void Image_and_label_count_mismatch_names_the_labels_file()
    {
        using var dir = new TempDir();
        DataTestFiles.WriteIdxPair(dir.Path, "train", n: 6, h: 2, w: 2, gzip: false);
        string labels = dir.File("train-labels-idx1-ubyte");
        File.WriteAllBytes(labels, DataTestFiles.Idx([5], [0, 1, 2, 3, 4]));

        var e = Assert.Throws<DatasetException>(() => IdxDatasets.LoadFashionMnist(dir.Path, train: true));

        Assert.Equal(DataErrorKind.CountMismatch, e.Kind);
        Assert.Equal(labels, e.FilePath);
        Assert.Contains("5 labels", e.Message);
        Assert.Contains("6 images", e.Message);
    }

    [Fact]
    public void Label_outside_the_classes_is_reported()
    {
        using var dir = new TempDir();
        DataTestFiles.WriteIdxPair(dir.Path, "train", n: 3, h: 2, w: 2, gzip: false);
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte"), DataTestFiles.Idx([3], [0, 12, 1]));

        var e = Assert.Throws<DatasetException>(() => IdxDatasets.LoadMnist(dir.Path, train: true));

        Assert.Equal(DataErrorKind.BadLabel, e.Kind);
        Assert.Contains("label 12 at index 1", e.Message);
    }

    [Fact]
    public void Missing_files_name_the_folder()
    {
        using var dir = new TempDir();

        var e = Assert.Throws<DatasetException>(() => IdxDatasets.LoadFashionMnist(dir.Path, train: true));

        Assert.Equal(DataErrorKind.Missing, e.Kind);
        Assert.Equal(dir.Path, e.FilePath);
        Assert.Contains("train-images-idx3-ubyte.gz", e.Message);
    }
}
