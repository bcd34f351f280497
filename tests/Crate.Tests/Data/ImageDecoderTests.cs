using Crate.Core.Data;
using Crate.Core.Data.Images;

namespace Crate.Tests.Data;

public class ImageDecoderTests
{
    // Fixtures (tools/data/make-image-fixtures.py): 16x12, left half red, right half blue.
    [Theory]
    [InlineData("rgb.jpg")]
    [InlineData("progressive.jpg")]
    [InlineData("cmyk.jpg")]
    [InlineData("png-named.jpg")]
    [InlineData("palette.png")]
    [InlineData("rgba.png")]
    [InlineData("rgb.bmp")]
    [InlineData("palette.gif")]
    public void Colour_fixtures_decode_to_rgb_and_grey(string name)
    {
        ByteImage rgb = ImageDecoder.Decode(DataTestFiles.Fixture(name), channels: 3);
        ByteImage grey = ImageDecoder.Decode(DataTestFiles.Fixture(name), channels: 1);

        Assert.Equal((3, 12, 16), (rgb.Channels, rgb.Height, rgb.Width));
        Assert.Equal((1, 12, 16), (grey.Channels, grey.Height, grey.Width));
        AssertNear([255, 0, 0], [rgb[0, 2, 2], rgb[1, 2, 2], rgb[2, 2, 2]], 12);      // red, left
        AssertNear([0, 0, 255], [rgb[0, 9, 13], rgb[1, 9, 13], rgb[2, 9, 13]], 12);   // blue, right
        AssertNear([76], [grey[0, 2, 2]], 6);    // luma of red
        AssertNear([29], [grey[0, 9, 13]], 6);   // luma of blue
    }

    [Theory]
    [InlineData("grey.jpg")]
    [InlineData("grey.png")]
    public void Greyscale_fixtures_replicate_to_rgb(string name)
    {
        ByteImage rgb = ImageDecoder.Decode(DataTestFiles.Fixture(name), channels: 3);
        ByteImage grey = ImageDecoder.Decode(DataTestFiles.Fixture(name), channels: 1);

        for (int c = 0; c < 3; c++)
        {
            AssertNear([50], [rgb[c, 1, 5]], 4);     // top half
            AssertNear([200], [rgb[c, 10, 5]], 4);   // bottom half
        }
        AssertNear([50, 200], [grey[0, 1, 5], grey[0, 10, 5]], 4);
    }

    [Fact]
    public void Format_comes_from_the_bytes_not_the_name()
    {
        byte[] head = File.ReadAllBytes(DataTestFiles.Fixture("png-named.jpg"));
        Assert.Equal(ImageFormat.Png, ImageFileCheck.Sniff(head));
        Assert.Equal(ImageFormat.Jpeg, ImageFileCheck.Sniff(File.ReadAllBytes(DataTestFiles.Fixture("cmyk.jpg"))));
        Assert.Equal(ImageFormat.Gif, ImageFileCheck.Sniff(File.ReadAllBytes(DataTestFiles.Fixture("palette.gif"))));
        Assert.Equal(ImageFormat.Bmp, ImageFileCheck.Sniff(File.ReadAllBytes(DataTestFiles.Fixture("rgb.bmp"))));
    }

    [Fact]
    public void Hand_written_pngs_decode_exactly_into_chw()
    {
        using var dir = new TempDir();
        // 3x2 RGB: pixel (y, x) = (10y + x, 100 + x, 200 - y).
        var rgbSamples = new byte[3 * 2 * 3];
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
            {
                int p = (y * 3 + x) * 3;
                (rgbSamples[p], rgbSamples[p + 1], rgbSamples[p + 2]) = ((byte)(10 * y + x), (byte)(100 + x), (byte)(200 - y));
            }
        var rgba = new byte[3 * 2 * 4];
        for (int p = 0; p < 6; p++) { rgba[4 * p] = rgbSamples[3 * p]; rgba[4 * p + 1] = rgbSamples[3 * p + 1]; rgba[4 * p + 2] = rgbSamples[3 * p + 2]; rgba[4 * p + 3] = 0; }
        byte[] palette = [5, 6, 7, 250, 251, 252];
        var cases = new Dictionary<string, byte[]>
        {
            ["rgb.png"] = DataTestFiles.Png(3, 2, 2, rgbSamples),
            ["rgba.png"] = DataTestFiles.Png(3, 2, 6, rgba),
            ["grey.png"] = DataTestFiles.Png(3, 2, 0, [0, 1, 2, 10, 11, 12]),
            ["palette.png"] = DataTestFiles.Png(3, 2, 3, [0, 1, 0, 1, 1, 0], palette),
        };
        foreach (var (name, bytes) in cases) File.WriteAllBytes(dir.File(name), bytes);

        foreach (string name in new[] { "rgb.png", "rgba.png" })
        {
            ByteImage img = ImageDecoder.Decode(dir.File(name), 3);
            Assert.Equal([0, 1, 2, 10, 11, 12, 100, 101, 102, 100, 101, 102, 200, 200, 200, 199, 199, 199], img.Data);   // [C, H, W]
        }
        Assert.Equal([0, 1, 2, 10, 11, 12], ImageDecoder.Decode(dir.File("grey.png"), 1).Data);
        Assert.Equal([0, 1, 2, 10, 11, 12, 0, 1, 2, 10, 11, 12, 0, 1, 2, 10, 11, 12], ImageDecoder.Decode(dir.File("grey.png"), 3).Data);
        ByteImage pal = ImageDecoder.Decode(dir.File("palette.png"), 3);
        Assert.Equal([5, 250, 5, 250, 250, 5], pal.Plane(0).ToArray());
        Assert.Equal([7, 252, 7, 252, 252, 7], pal.Plane(2).ToArray());
    }

    [Theory]
    [InlineData("rgb.jpg", 10)]        // inside the first segment: stb_image would loop forever here
    [InlineData("rgb.jpg", 300)]       // inside the scan: stb_image would return garbage pixels
    [InlineData("progressive.jpg", 500)]
    [InlineData("grey.png", 70)]
    [InlineData("palette.gif", 50)]
    [InlineData("rgb.bmp", 300)]
    public void Truncated_images_are_reported_not_decoded(string name, int keep)
    {
        using var dir = new TempDir();
        string path = dir.File(name);
        File.WriteAllBytes(path, File.ReadAllBytes(DataTestFiles.Fixture(name))[..keep]);

        var e = Assert.Throws<DatasetException>(() => ImageDecoder.Decode(path, 3));

        Assert.Equal(DataErrorKind.Truncated, e.Kind);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Corrupt_png_fails_its_crc()
    {
        using var dir = new TempDir();
        byte[] png = DataTestFiles.SolidPng(4, 4, 1, 2, 3);
        png[^20] ^= 0xFF;   // inside IDAT
        string path = dir.File("bad.png");
        File.WriteAllBytes(path, png);

        var e = Assert.Throws<DatasetException>(() => ImageDecoder.Decode(path, 3));

        Assert.Equal(DataErrorKind.Undecodable, e.Kind);
        Assert.Contains("CRC", e.Message);
    }

    [Fact]
    public void Jpeg_with_garbage_after_the_magic_does_not_decode()
    {
        using var dir = new TempDir();
        string path = dir.File("garbage.jpg");
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xD9]);   // SOI, empty APP0, EOI: no frame

        var e = Assert.Throws<DatasetException>(() => ImageDecoder.Decode(path, 3));

        Assert.Equal(DataErrorKind.Undecodable, e.Kind);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' })]
    public void Non_images_are_reported(byte[] content)
    {
        using var dir = new TempDir();
        string path = dir.File("not-an-image.jpg");
        File.WriteAllBytes(path, content);

        var e = Assert.Throws<DatasetException>(() => ImageDecoder.Decode(path, 3));

        Assert.Equal(DataErrorKind.Undecodable, e.Kind);
        Assert.StartsWith(path, e.Message);
    }

    private static void AssertNear(int[] expected, int[] actual, int tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}] expected {expected[i]}±{tolerance}, got {actual[i]} ({string.Join(",", actual)})");
    }
}
