using Crate.Core.Data;
using Crate.Core.Data.Images;

namespace Crate.Tests.Data;

public class ImageFolderTests
{
    [Fact]
    public void Classes_and_files_are_sorted_as_torchvision_does()
    {
        using var dir = new TempDir();
        string root = dir.Path;
        // Ordinal order: "Zebra" < "ant" < "bee"; inside a class, folders by path and files by name.
        Write(root, "bee/b.png", 30);
        Write(root, "bee/a.PNG", 31);
        Write(root, "ant/sub/z.png", 20);
        Write(root, "ant/y.png", 21);
        Write(root, "ant/sub/deeper/x.png", 22);
        Write(root, "Zebra/1.png", 10);
        File.WriteAllText(Path.Combine(root, "ant", "README.txt"), "not an image");
        File.WriteAllText(Path.Combine(root, "notes.txt"), "not a class");

        var ds = ImageFolderDataset.Open(root, channels: 3, ImageFolderCheck.Full);

        Assert.Equal(["Zebra", "ant", "bee"], ds.ClassNames);
        string[] relative = ds.Files.Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToArray();
        Assert.Equal(["Zebra/1.png", "ant/y.png", "ant/sub/z.png", "ant/sub/deeper/x.png", "bee/a.PNG", "bee/b.png"], relative);
        Assert.Equal([0, 1, 1, 1, 2, 2], Enumerable.Range(0, ds.Count).Select(ds.GetLabel));
        Assert.Equal([1, 3, 2], ds.ClassCounts());
        Assert.Equal(22, ds.GetImage(3)[0, 0, 0]);
        Assert.Equal(3, ds.GetImage(3).Channels);
    }

    [Fact]
    public void Requested_channel_count_applies_to_every_colour_type()
    {
        using var dir = new TempDir();
        foreach (string name in new[] { "rgb.jpg", "grey.jpg", "cmyk.jpg", "palette.png", "rgba.png", "png-named.jpg", "rgb.bmp", "palette.gif" })
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, "mixed"));
            File.Copy(DataTestFiles.Fixture(name), Path.Combine(dir.Path, "mixed", name));
        }

        foreach (int channels in new[] { 1, 3 })
        {
            var ds = ImageFolderDataset.Open(dir.Path, channels, ImageFolderCheck.Full);
            Assert.Equal(8, ds.Count);
            for (int i = 0; i < ds.Count; i++)
            {
                ByteImage img = ds.GetImage(i);
                Assert.Equal((channels, 12, 16), (img.Channels, img.Height, img.Width));
            }
        }
    }

    [Fact]
    public void Class_folder_without_images_is_reported_at_open()
    {
        using var dir = new TempDir();
        Write(dir.Path, "cat/1.png", 1);
        Directory.CreateDirectory(Path.Combine(dir.Path, "dog"));
        File.WriteAllText(Path.Combine(dir.Path, "dog", "list.txt"), "no images here");

        var e = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(dir.Path, 3, ImageFolderCheck.None));

        Assert.Equal(DataErrorKind.EmptyClass, e.Kind);
        Assert.Equal(Path.Combine(dir.Path, "dog"), e.FilePath);
    }

    [Fact]
    public void Root_without_class_folders_is_reported()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(dir.Path));
        Assert.Equal(DataErrorKind.Missing, e.Kind);

        var missing = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(dir.File("nope")));
        Assert.Equal(DataErrorKind.Missing, missing.Kind);
    }

    [Fact]
    public void Header_check_finds_a_non_image_before_training()
    {
        using var dir = new TempDir();
        Write(dir.Path, "cat/1.png", 1);
        string bad = Path.Combine(dir.Path, "cat", "2.png");
        File.WriteAllText(bad, "<html>404</html>");

        var e = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(dir.Path, 3, ImageFolderCheck.Header));
        Assert.Equal(DataErrorKind.Undecodable, e.Kind);
        Assert.Equal(bad, e.FilePath);

        // Unchecked, the same file fails when the loader decodes it, still naming it.
        var lazy = ImageFolderDataset.Open(dir.Path, 3, ImageFolderCheck.None);
        var late = Assert.Throws<DatasetException>(() => lazy.GetImage(1));
        Assert.Equal(bad, late.FilePath);
    }

    [Fact]
    public void Full_check_finds_a_truncated_image_whose_header_is_fine()
    {
        using var dir = new TempDir();
        Write(dir.Path, "cat/1.png", 1);
        string cut = Path.Combine(dir.Path, "cat", "2.jpg");
        File.WriteAllBytes(cut, File.ReadAllBytes(DataTestFiles.Fixture("rgb.jpg"))[..400]);

        ImageFolderDataset.Open(dir.Path, 3, ImageFolderCheck.Header);   // the header is intact
        var e = Assert.Throws<DatasetException>(() => ImageFolderDataset.Open(dir.Path, 3, ImageFolderCheck.Full));

        Assert.Equal(DataErrorKind.Truncated, e.Kind);
        Assert.Equal(cut, e.FilePath);
    }

    private static void Write(string root, string relative, byte value)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, DataTestFiles.SolidPng(5, 4, value, value, value));
    }
}
