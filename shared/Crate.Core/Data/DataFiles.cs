using System.IO.Compression;

namespace Crate.Core.Data;

/// <summary>File helpers shared by the readers: gzip detection by magic bytes and whole-file reads.</summary>
public static class DataFiles
{
    /// <summary>True when the file starts with the gzip magic bytes 1F 8B (whatever its name).</summary>
    public static bool IsGzip(string path)
    {
        using var f = File.OpenRead(path);
        return f.ReadByte() == 0x1F && f.ReadByte() == 0x8B;
    }

    /// <summary>Opens a file for reading, decompressing it on the fly when it is gzip (detected by its magic).</summary>
    public static Stream OpenMaybeGzip(string path)
    {
        RequireFile(path);
        bool gz = IsGzip(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return gz ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    /// <summary>All bytes of a raw or gzipped file; a broken gzip stream is reported as <see cref="DataErrorKind.Corrupt"/>.</summary>
    public static byte[] ReadAllBytesMaybeGzip(string path)
    {
        RequireFile(path);
        if (!IsGzip(path)) return File.ReadAllBytes(path);
        using var stream = OpenMaybeGzip(path);
        using var buffer = new MemoryStream();
        try { stream.CopyTo(buffer); }
        catch (InvalidDataException e) { throw new DatasetException(path, DataErrorKind.Corrupt, $"broken gzip stream ({e.Message})", e); }
        return buffer.ToArray();
    }

    /// <summary>Throws <see cref="DataErrorKind.Missing"/> when <paramref name="path"/> is not a file.</summary>
    public static void RequireFile(string path)
    {
        if (!File.Exists(path)) throw new DatasetException(path, DataErrorKind.Missing, "file not found");
    }

    /// <summary>Throws <see cref="DataErrorKind.Missing"/> when <paramref name="path"/> is not a folder.</summary>
    public static void RequireDirectory(string path)
    {
        if (!Directory.Exists(path)) throw new DatasetException(path, DataErrorKind.Missing, "folder not found");
    }

    /// <summary>Reads exactly <paramref name="buffer"/>.Length bytes; returns how many were available before the end.</summary>
    public static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
