using StbImageSharp;

namespace Crate.Core.Data.Images;

/// <summary>
/// Decodes JPEG (baseline, progressive, greyscale, CMYK), PNG (grey, palette, RGB, RGBA, 16-bit), BMP and
/// GIF (first frame) files with StbImageSharp into a <see cref="ByteImage"/> of the requested channel
/// count. The format comes from the first bytes, never from the file name (ImageNet holds a PNG named
/// .JPEG). Colour to grey uses stb's luma (77 R + 150 G + 29 B) / 256; alpha is dropped without
/// compositing, as PIL's <c>convert("RGB")</c> does.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Reads and decodes <paramref name="path"/> to <paramref name="channels"/> (1 or 3) channels.</summary>
    public static ByteImage Decode(string path, int channels)
    {
        DataFiles.RequireFile(path);
        return Decode(File.ReadAllBytes(path), channels, path);
    }

    /// <summary>Decodes the bytes of an image file; <paramref name="path"/> names it in errors.</summary>
    public static ByteImage Decode(byte[] file, int channels, string path)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3 channels");
        ImageHeader header = ImageFileCheck.Validate(file, path);
        ImageResult result;
        try
        {
            result = ImageResult.FromMemory(file, channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new DatasetException(path, DataErrorKind.Undecodable, $"{header.Format} does not decode ({e.Message.Trim()})", e);
        }
        if (result.Width != header.Width || result.Height != header.Height)
            throw new DatasetException(path, DataErrorKind.Undecodable,
                $"decoded {result.Width}x{result.Height}, header says {header.Width}x{header.Height}");
        return ToPlanar(result.Data, channels, result.Height, result.Width);
    }

    /// <summary>Interleaved HWC bytes to a planar CHW image.</summary>
    public static ByteImage ToPlanar(ReadOnlySpan<byte> hwc, int channels, int height, int width)
    {
        var image = new ByteImage(channels, height, width);
        if (channels == 1)
        {
            hwc[..(height * width)].CopyTo(image.Data);
            return image;
        }
        int plane = height * width;
        byte[] chw = image.Data;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < channels; c++)
                chw[c * plane + p] = hwc[p * channels + c];   // [H, W, C] -> [C, H, W]
        return image;
    }
}
