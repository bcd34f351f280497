using System.Buffers.Binary;
using System.IO.Compression;

namespace Crate.Core.Data.Images;

/// <summary>
/// A minimal PNG encoder for figures (attention maps, image grids): 8-bit greyscale (1 channel) or RGB
/// (3 channels), no interlacing. Layout (PNG spec §5, §11): the 8-byte signature, then chunks
/// (big-endian length, 4-letter type, data, CRC-32 of type and data): <c>IHDR</c>, one <c>IDAT</c>
/// holding the zlib stream of the scanlines (each prefixed with filter byte 0), <c>IEND</c>.
/// </summary>
public static class PngWriter
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = MakeCrcTable();

    /// <summary>Writes <paramref name="image"/> (CHW, 1 or 3 channels) to <paramref name="path"/>, creating its folder.</summary>
    public static void Write(string path, ByteImage image)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, Encode(image));
    }

    /// <summary>The PNG file bytes of <paramref name="image"/> (CHW, 1 channel → greyscale, 3 → RGB).</summary>
    public static byte[] Encode(ByteImage image)
    {
        if (image.Channels is not (1 or 3))
            throw new ArgumentException($"PNG output needs 1 or 3 channels, the image has {image.Channels}", nameof(image));
        int c = image.Channels, h = image.Height, w = image.Width;

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, w);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), h);
        header[8] = 8;                                  // bit depth
        header[9] = (byte)(c == 1 ? 0 : 2);             // colour type: greyscale or truecolour
        // header[10..12]: compression 0 (deflate), filter method 0, no interlace

        var scanlines = new byte[h * (1 + w * c)];      // per row: filter byte 0, then interleaved pixels
        for (int y = 0; y < h; y++)
        {
            int row = y * (1 + w * c) + 1;
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                    scanlines[row + x * c + ch] = image[ch, y, x];   // CHW → HWC
        }
        byte[] compressed;
        using (var buffer = new MemoryStream())
        {
            using (var z = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) z.Write(scanlines);
            compressed = buffer.ToArray();
        }

        using var png = new MemoryStream();
        png.Write(Signature);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", compressed);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) as PNG chunks use it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        var typeAndData = new byte[4 + data.Length];
        for (int i = 0; i < 4; i++) typeAndData[i] = (byte)type[i];
        data.CopyTo(typeAndData, 4);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        output.Write(word);
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
