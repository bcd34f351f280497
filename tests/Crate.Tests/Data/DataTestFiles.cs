using System.Buffers.Binary;
using System.IO.Compression;

namespace Crate.Tests.Data;

/// <summary>A temporary folder deleted at dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "crate-data-" + Guid.NewGuid().ToString("N")));

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Writers for tiny files in the real formats, independent of the library's readers.</summary>
public static class DataTestFiles
{
    /// <summary>The repository root (the folder holding Crate.sln).</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Crate.sln"))) return dir.FullName;
        throw new InvalidOperationException("Crate.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Fixture(string name) => Path.Combine(RepoRoot(), "tests", "Crate.Tests", "Data", "Fixtures", "images", name);

    /// <summary>IDX bytes: magic 0x0000_08_rank, big-endian dims, data.</summary>
    public static byte[] Idx(int[] dims, byte[] data, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.Fastest)) gz.Write(data);
        return buffer.ToArray();
    }

    /// <summary>Writes an MNIST-style folder: n images of h x w where pixel = (i * 7 + y * w + x) % 256, label = i % 10.</summary>
    public static (byte[] Pixels, byte[] Labels) WriteIdxPair(string dir, string prefix, int n, int h, int w, bool gzip)
    {
        var pixels = new byte[n * h * w];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < h * w; p++) pixels[i * h * w + p] = (byte)((i * 7 + p) % 256);
        var labels = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        string suffix = gzip ? ".gz" : "";
        byte[] img = Idx([n, h, w], pixels), lab = Idx([n], labels);
        System.IO.File.WriteAllBytes(Path.Combine(dir, $"{prefix}-images-idx3-ubyte{suffix}"), gzip ? Gzip(img) : img);
        System.IO.File.WriteAllBytes(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte{suffix}"), gzip ? Gzip(lab) : lab);
        return (pixels, labels);
    }

    /// <summary>CIFAR records: label byte(s) then 3072 pixels where R = i, G = 100 + i, B = 200 - i (+ position in plane).</summary>
    public static byte[] CifarRecords(int n, Func<int, byte[]> labelsOf)
    {
        var output = new List<byte>();
        for (int i = 0; i < n; i++)
        {
            output.AddRange(labelsOf(i));
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 1024; p++) output.Add(CifarPixel(i, c, p));
        }
        return output.ToArray();
    }

    public static byte CifarPixel(int i, int c, int p) => (byte)((c switch { 0 => i, 1 => 100 + i, _ => 200 - i }) + p % 7);

    /// <summary>A CIFAR-10 binary folder under <paramref name="root"/>: five training batches of 8 records and a test batch of 10, labels cycling over 0..9.</summary>
    public static string TinyCifar10(string root)
    {
        string dir = Path.Combine(root, "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        for (int b = 1; b <= 5; b++)
            System.IO.File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"), CifarRecords(8, i => [(byte)((b * 8 + i) % 10)]));
        System.IO.File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), CifarRecords(10, i => [(byte)i]));
        return dir;
    }

    /// <summary>A CIFAR-100 binary folder under <paramref name="root"/>: 20 training and 10 test records (coarse label, fine label), fine labels 0..19.</summary>
    public static string TinyCifar100(string root)
    {
        string dir = Path.Combine(root, "cifar-100-binary");
        Directory.CreateDirectory(dir);
        System.IO.File.WriteAllBytes(Path.Combine(dir, "train.bin"), CifarRecords(20, i => [(byte)(i % 20), (byte)i]));
        System.IO.File.WriteAllBytes(Path.Combine(dir, "test.bin"), CifarRecords(10, i => [(byte)(i % 20), (byte)(2 * i)]));
        return dir;
    }

    // ---- PNG, written by hand: signature, IHDR, optional PLTE/tRNS, one IDAT (zlib, filter 0 per row), IEND.

    /// <summary>A PNG of colour type 0 (grey), 2 (RGB), 3 (palette) or 6 (RGBA); rows are interleaved samples (or palette indices).</summary>
    public static byte[] Png(int width, int height, byte colorType, byte[] samples, byte[]? palette = null)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 6 => 4, _ => throw new ArgumentException("colour type") };
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = colorType;
        Chunk(png, "IHDR", ihdr);
        if (palette is not null) Chunk(png, "PLTE", palette);
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal))
            for (int y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(samples, y * width * channels, width * channels);
            }
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(header, 4);
        s.Write(header);
        s.Write(data);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32([.. header.AsSpan(4), .. data]));
        s.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    /// <summary>An RGB PNG filled with one colour.</summary>
    public static byte[] SolidPng(int width, int height, byte r, byte g, byte b)
    {
        var samples = new byte[width * height * 3];
        for (int p = 0; p < width * height; p++) { samples[3 * p] = r; samples[3 * p + 1] = g; samples[3 * p + 2] = b; }
        return Png(width, height, 2, samples);
    }
}
