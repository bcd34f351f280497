using System.Buffers.Binary;

namespace Crate.Core.Data.Images;

/// <summary>Image container formats the decoder accepts, recognised by their first bytes.</summary>
public enum ImageFormat
{
    /// <summary>None of the formats below.</summary>
    Unknown,
    /// <summary>JPEG (FF D8 FF).</summary>
    Jpeg,
    /// <summary>PNG (89 'PNG' 0D 0A 1A 0A).</summary>
    Png,
    /// <summary>Windows bitmap ('BM').</summary>
    Bmp,
    /// <summary>GIF87a / GIF89a (first frame).</summary>
    Gif,
}

/// <summary>Format and size read from an image file's header.</summary>
public readonly record struct ImageHeader(ImageFormat Format, int Width, int Height);

/// <summary>
/// Structural checks of image files done before StbImageSharp sees them. stb_image is lenient: it turns a
/// truncated JPEG, GIF or BMP into an image with garbage or zero pixels, and a JPEG cut inside its first
/// segment sends it into an endless loop (measured with StbImageSharp 2.30.16). So every file is walked
/// here first: JPEG marker segments up to EOI, PNG chunks with their CRCs up to IEND, GIF blocks up to the
/// trailer, BMP pixel array size. Anything that does not hold up is a <see cref="DatasetException"/>.
/// </summary>
public static class ImageFileCheck
{
    /// <summary>Largest accepted image (pixels), to refuse absurd headers before allocating.</summary>
    public const long MaxPixels = 1L << 28;

    /// <summary>The format that the first bytes announce; the file name plays no part.</summary>
    public static ImageFormat Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return ImageFormat.Jpeg;
        if (head.Length >= 8 && head[..8].SequenceEqual(PngSignature)) return ImageFormat.Png;
        if (head.Length >= 6 && (head[..6].SequenceEqual("GIF87a"u8) || head[..6].SequenceEqual("GIF89a"u8))) return ImageFormat.Gif;
        if (head.Length >= 2 && head[0] == (byte)'B' && head[1] == (byte)'M') return ImageFormat.Bmp;
        return ImageFormat.Unknown;
    }

    /// <summary>
    /// Reads format and size from the start of a file. <paramref name="isWholeFile"/> says whether
    /// <paramref name="data"/> is the entire file; if not, and the header lies beyond it, null is returned
    /// so the caller can retry with the whole file.
    /// </summary>
    public static ImageHeader? ReadHeader(ReadOnlySpan<byte> data, bool isWholeFile, string path)
    {
        ImageFormat format = RequireKnown(data, path);
        ImageHeader? header = format switch
        {
            ImageFormat.Jpeg => JpegHeader(data, isWholeFile, path),
            ImageFormat.Png => Need(data, 24, isWholeFile, path)
                ? new ImageHeader(format, (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data[16..]), int.MaxValue),
                    (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(data[20..]), int.MaxValue))
                : null,
            ImageFormat.Gif => Need(data, 10, isWholeFile, path)
                ? new ImageHeader(format, BinaryPrimitives.ReadUInt16LittleEndian(data[6..]), BinaryPrimitives.ReadUInt16LittleEndian(data[8..]))
                : null,
            _ => BmpHeader(data, isWholeFile, path),
        };
        if (header is { } h && (h.Width <= 0 || h.Height <= 0 || (long)h.Width * h.Height > MaxPixels))
            throw new DatasetException(path, DataErrorKind.Undecodable, $"{format} header gives an impossible size {h.Width}x{h.Height}");
        return header;
    }

    /// <summary>Checks the whole file's structure (see the class summary) and returns its header.</summary>
    public static ImageHeader Validate(ReadOnlySpan<byte> file, string path)
    {
        ImageHeader header = ReadHeader(file, isWholeFile: true, path)!.Value;
        switch (header.Format)
        {
            case ImageFormat.Jpeg: WalkJpeg(file, path, untilFrame: false); break;
            case ImageFormat.Png: WalkPng(file, path); break;
            case ImageFormat.Gif: WalkGif(file, path); break;
            default: CheckBmpLength(file, path); break;
        }
        return header;
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static ImageFormat RequireKnown(ReadOnlySpan<byte> data, string path)
    {
        ImageFormat format = Sniff(data);
        if (format != ImageFormat.Unknown) return format;
        string first = Convert.ToHexString(data[..Math.Min(8, data.Length)]);
        throw new DatasetException(path, DataErrorKind.Undecodable,
            data.Length == 0 ? "empty file, not an image" : $"not a JPEG, PNG, BMP or GIF file (first bytes {first})");
    }

    private static bool Need(ReadOnlySpan<byte> data, int bytes, bool isWholeFile, string path)
    {
        if (data.Length >= bytes) return true;
        if (isWholeFile) throw Truncated(path, $"the header needs {bytes} bytes, the file has {data.Length}");
        return false;
    }

    private static DatasetException Truncated(string path, string detail) =>
        new(path, DataErrorKind.Truncated, $"truncated image: {detail}");

    private static DatasetException Corrupt(string path, string detail) =>
        new(path, DataErrorKind.Undecodable, $"corrupt image: {detail}");

    // ---- JPEG: SOI, then marker segments (FF xx, big-endian length that includes itself); entropy-coded
    // data follows each SOS up to the next marker that is not a stuffed FF 00 or a restart FF D0..D7.

    private static ImageHeader? JpegHeader(ReadOnlySpan<byte> data, bool isWholeFile, string path)
    {
        try { return WalkJpeg(data, path, untilFrame: true); }
        catch (DatasetException e) when (e.Kind == DataErrorKind.Truncated && !isWholeFile) { return null; }
    }

    private static ImageHeader? WalkJpeg(ReadOnlySpan<byte> d, string path, bool untilFrame)
    {
        ImageHeader? frame = null;
        int pos = 2;
        while (true)
        {
            if (pos >= d.Length) throw Truncated(path, $"JPEG ends at byte {d.Length} without an EOI marker");
            if (d[pos] != 0xFF)
            {
                // Stray bytes between segments: skip to the next marker, as libjpeg does.
                int next = d[pos..].IndexOf((byte)0xFF);
                if (next < 0) throw Truncated(path, $"JPEG ends at byte {d.Length} without an EOI marker");
                pos += next;
            }
            while (pos < d.Length && d[pos] == 0xFF) pos++;   // fill bytes
            if (pos >= d.Length) throw Truncated(path, "JPEG ends inside a marker");
            byte marker = d[pos++];
            if (marker == 0xD9)
            {
                if (frame is null) throw Corrupt(path, "JPEG has no frame header (SOF) before EOI");
                return frame;
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) continue;       // segments without a length
            if (pos + 2 > d.Length) throw Truncated(path, $"JPEG ends inside the length of marker 0x{marker:X2}");
            int length = BinaryPrimitives.ReadUInt16BigEndian(d[pos..]);
            if (length < 2) throw Corrupt(path, $"JPEG marker 0x{marker:X2} at byte {pos - 2} has length {length}");
            if (pos + length > d.Length) throw Truncated(path, $"JPEG segment 0x{marker:X2} at byte {pos - 2} needs {length} bytes, the file ends first");
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                if (length < 8) throw Corrupt(path, $"JPEG frame header of {length} bytes");
                frame = new ImageHeader(ImageFormat.Jpeg, BinaryPrimitives.ReadUInt16BigEndian(d[(pos + 5)..]),
                    BinaryPrimitives.ReadUInt16BigEndian(d[(pos + 3)..]));
                if (untilFrame) return frame;
            }
            pos += length;
            if (marker != 0xDA) continue;
            if (frame is null) throw Corrupt(path, "JPEG scan (SOS) before the frame header (SOF)");
            // Entropy-coded data: runs to the next real marker.
            while (true)
            {
                int ff = d[pos..].IndexOf((byte)0xFF);
                if (ff < 0 || pos + ff + 1 >= d.Length) throw Truncated(path, $"JPEG scan data ends at byte {d.Length} without an EOI marker");
                pos += ff;
                byte next = d[pos + 1];
                if (next == 0x00 || next is >= 0xD0 and <= 0xD7 || next == 0xFF) { pos += next == 0xFF ? 1 : 2; continue; }
                break;
            }
        }
    }

    // ---- PNG: signature, then chunks (length, type, data, CRC-32 of type+data) from IHDR to IEND.

    private static void WalkPng(ReadOnlySpan<byte> d, string path)
    {
        int pos = 8;
        bool first = true, sawData = false;
        while (true)
        {
            if (pos + 8 > d.Length) throw Truncated(path, $"PNG ends at byte {d.Length} without an IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d[pos..]);
            ReadOnlySpan<byte> type = d.Slice(pos + 4, 4);
            string name = System.Text.Encoding.ASCII.GetString(type);
            if (length > int.MaxValue || pos + 12L + length > d.Length)
                throw Truncated(path, $"PNG chunk {name} at byte {pos} needs {length} data bytes, the file ends first");
            if (first && name != "IHDR") throw Corrupt(path, $"PNG starts with chunk {name}, not IHDR");
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(d[(pos + 8 + (int)length)..]);
            uint actual = PngWriter.Crc32(d.Slice(pos + 4, 4 + (int)length));
            if (stored != actual) throw Corrupt(path, $"PNG chunk {name} at byte {pos} fails its CRC check");
            sawData |= name == "IDAT";
            pos += 12 + (int)length;
            first = false;
            if (name == "IEND")
            {
                if (!sawData) throw Corrupt(path, "PNG has no IDAT chunk");
                return;
            }
        }
    }

    // ---- GIF: header, logical screen descriptor (+ global colour table), then extension blocks (0x21) and
    // images (0x2C) made of length-prefixed sub-blocks, up to the trailer (0x3B).

    private static void WalkGif(ReadOnlySpan<byte> d, string path)
    {
        int pos = 13;
        if (pos > d.Length) throw Truncated(path, "GIF ends inside its screen descriptor");
        if ((d[10] & 0x80) != 0) pos += 3 << ((d[10] & 7) + 1);
        bool sawImage = false;
        while (true)
        {
            if (pos >= d.Length) throw Truncated(path, $"GIF ends at byte {d.Length} without its trailer");
            byte block = d[pos++];
            if (block == 0x3B)
            {
                if (!sawImage) throw Corrupt(path, "GIF has no image");
                return;
            }
            if (block == 0x21) { pos++; }
            else if (block == 0x2C)
            {
                if (pos + 9 > d.Length) throw Truncated(path, "GIF ends inside an image descriptor");
                byte packed = d[pos + 8];
                pos += 9;
                if ((packed & 0x80) != 0) pos += 3 << ((packed & 7) + 1);
                pos++;   // LZW minimum code size
                sawImage = true;
            }
            else throw Corrupt(path, $"GIF: unknown block 0x{block:X2} at byte {pos - 1}");
            while (true)   // sub-blocks
            {
                if (pos >= d.Length) throw Truncated(path, $"GIF ends inside a data block at byte {d.Length}");
                int size = d[pos++];
                if (size == 0) break;
                pos += size;
            }
        }
    }

    // ---- BMP: 14-byte file header (pixel data offset at byte 10), then a DIB header.

    private static ImageHeader? BmpHeader(ReadOnlySpan<byte> d, bool isWholeFile, string path)
    {
        if (!Need(d, 26, isWholeFile, path)) return null;
        uint dib = BinaryPrimitives.ReadUInt32LittleEndian(d[14..]);
        if (dib == 12)
            return new ImageHeader(ImageFormat.Bmp, BinaryPrimitives.ReadUInt16LittleEndian(d[18..]), BinaryPrimitives.ReadUInt16LittleEndian(d[20..]));
        int height = BinaryPrimitives.ReadInt32LittleEndian(d[22..]);
        return new ImageHeader(ImageFormat.Bmp, BinaryPrimitives.ReadInt32LittleEndian(d[18..]), height == int.MinValue ? 0 : Math.Abs(height));
    }

    private static void CheckBmpLength(ReadOnlySpan<byte> d, string path)
    {
        uint dib = BinaryPrimitives.ReadUInt32LittleEndian(d[14..]);
        if (dib != 12 && d.Length < 34) throw Truncated(path, "BMP ends inside its info header");
        int width = dib == 12 ? BinaryPrimitives.ReadUInt16LittleEndian(d[18..]) : BinaryPrimitives.ReadInt32LittleEndian(d[18..]);
        int height = dib == 12 ? BinaryPrimitives.ReadUInt16LittleEndian(d[20..]) : Math.Abs(BinaryPrimitives.ReadInt32LittleEndian(d[22..]));
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(d[(dib == 12 ? 24 : 28)..]);
        uint compression = dib == 12 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(d[30..]);
        if (compression is not (0 or 3)) return;   // RLE: the length depends on the data
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(d[10..]);
        long stride = ((long)width * bits + 31) / 32 * 4;
        long needed = offset + stride * height;
        if (d.Length < needed)
            throw Truncated(path, $"BMP pixel array needs {needed} bytes ({width}x{height}, {bits} bits), the file has {d.Length}");
    }
}
