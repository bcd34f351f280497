using System.Buffers.Binary;

namespace Crate.Core.Data.Images;

/// <summary>An unsigned-byte IDX array: its shape (outermost first) and row-major data.</summary>
public sealed record IdxArray(int[] Shape, byte[] Data);

/// <summary>
/// Reader for the IDX format of MNIST and Fashion-MNIST, raw or gzipped (gzip is detected by its magic
/// bytes, not the file name). Layout: big-endian magic <c>0x0000 TT NN</c> (TT = 0x08 unsigned byte,
/// NN = number of dimensions), NN big-endian int32 sizes, then the row-major data and nothing after it.
/// </summary>
public static class IdxFile
{
    private const byte UnsignedByte = 0x08;

    /// <summary>Reads the whole array; every malformation throws a <see cref="DatasetException"/> naming the file.</summary>
    public static IdxArray Read(string path)
    {
        using var stream = DataFiles.OpenMaybeGzip(path);
        try { return Read(stream, path); }
        catch (InvalidDataException e)
        {
            throw new DatasetException(path, DataErrorKind.Corrupt, $"broken gzip stream ({e.Message})", e);
        }
    }

    private static IdxArray Read(Stream stream, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        if (DataFiles.ReadUpTo(stream, magic) < 4)
            throw new DatasetException(path, DataErrorKind.Truncated, "shorter than the 4-byte IDX magic number");
        if (magic[0] != 0 || magic[1] != 0 || magic[3] is 0 or > 4)
            throw new DatasetException(path, DataErrorKind.BadMagic,
                $"magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8} is not IDX (expected 0x0000TTNN with NN in 1..4)");
        if (magic[2] != UnsignedByte)
            throw new DatasetException(path, DataErrorKind.Unsupported,
                $"IDX element type 0x{magic[2]:X2} is not supported (only 0x08, unsigned byte)");

        int rank = magic[3];
        var shape = new int[rank];
        Span<byte> dim = stackalloc byte[4];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            if (DataFiles.ReadUpTo(stream, dim) < 4)
                throw new DatasetException(path, DataErrorKind.Truncated, $"header ends inside dimension {d} of {rank}");
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(dim);
            if (shape[d] < 0) throw new DatasetException(path, DataErrorKind.Corrupt, $"dimension {d} is negative ({shape[d]})");
            count *= shape[d];
            if (count > Array.MaxLength)
                throw new DatasetException(path, DataErrorKind.Unsupported, $"{count}+ elements exceed one .NET array");
        }

        // Read in bounded chunks: a damaged header that announces gigabytes must not allocate them before the data runs out.
        var (data, got) = ReadAnnounced(stream, count);
        if (data is null)
            throw new DatasetException(path, DataErrorKind.Truncated,
                $"header announces {string.Join("x", shape)} = {count} bytes of data but only {got} follow");
        if (stream.ReadByte() != -1)
            throw new DatasetException(path, DataErrorKind.Corrupt,
                $"trailing bytes after the {count} bytes of data that the header announces ({string.Join("x", shape)})");
        return new IdxArray(shape, data);
    }

    /// <summary>Reads <paramref name="count"/> bytes in chunks of at most 16 MiB; returns them (null when fewer follow) and how many were read.</summary>
    private static (byte[]? Data, long Got) ReadAnnounced(Stream stream, long count)
    {
        const int ChunkBytes = 1 << 24;
        if (stream.CanSeek && stream.Length - stream.Position < count)
            return (null, stream.Length - stream.Position);
        var chunks = new List<byte[]>();
        long got = 0;
        while (got < count)
        {
            var chunk = new byte[Math.Min(ChunkBytes, count - got)];
            int n = DataFiles.ReadUpTo(stream, chunk);
            got += n;
            chunks.Add(chunk);
            if (n < chunk.Length) return (null, got);
        }
        if (chunks.Count == 1) return (chunks[0], got);
        var data = new byte[count];
        long at = 0;
        foreach (var c in chunks) { c.CopyTo(data, at); at += c.Length; }
        return (data, got);
    }
}
