using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Crate.Core.Data.Text;

/// <summary>
/// A nanoGPT token file: a headerless flat array of little-endian uint16 ids (<c>train.bin</c> /
/// <c>val.bin</c> as nanoGPT's <c>prepare.py</c> writes them with <c>np.memmap(dtype=np.uint16)</c>),
/// read through a memory map so a 17 GB OpenWebText file costs no memory. Opening checks the byte count
/// and the ids against the vocabulary: every id for files up to <see cref="FullCheckLimit"/> tokens, a
/// fixed random sample of <see cref="SampleSize"/> ids (plus the first and last 64K) beyond; the batch
/// readers check every id they hand out. Reads are thread-safe.
/// </summary>
public sealed class TokenFile : IDisposable
{
    /// <summary>Files up to this many tokens have every id checked on open.</summary>
    public const long FullCheckLimit = 1L << 26;

    /// <summary>Ids checked on open in larger files.</summary>
    public const int SampleSize = 1 << 20;

    private const int Chunk = 1 << 16;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;

    private TokenFile(string path, long length, int vocabSize, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Path = path;
        Length = length;
        VocabSize = vocabSize;
        _map = map;
        _view = view;
    }

    /// <summary>Maps <paramref name="path"/> and checks it against <paramref name="vocabSize"/>.</summary>
    public static TokenFile Open(string path, int vocabSize) => Open(path, vocabSize, FullCheckLimit, SampleSize);

    /// <summary>As <see cref="Open(string, int)"/> with explicit check limits (tests use small ones).</summary>
    internal static TokenFile Open(string path, int vocabSize, long fullCheckLimit, int sampleSize)
    {
        if (vocabSize is <= 0 or > 65536) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "uint16 ids: 1..65536");
        DataFiles.RequireFile(path);
        long bytes = new FileInfo(path).Length;
        if (bytes == 0) throw new DatasetException(path, DataErrorKind.Empty, "token file is empty");
        if (bytes % 2 != 0)
            throw new DatasetException(path, DataErrorKind.OddByteCount,
                $"{bytes} bytes is odd: not a file of uint16 tokens (nanoGPT .bin)");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.Read);
        var file = new TokenFile(path, bytes / 2, vocabSize, map, view);
        try { file.CheckOnOpen(fullCheckLimit, sampleSize); }
        catch { file.Dispose(); throw; }
        return file;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>Number of tokens.</summary>
    public long Length { get; }

    /// <summary>Ids must be below this.</summary>
    public int VocabSize { get; }

    /// <summary>Copies <paramref name="destination"/>.Length tokens from token <paramref name="start"/> (no id check).</summary>
    public void Read(long start, ushort[] destination, int offset, int count)
    {
        if (start < 0 || count < 0 || start + count > Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"tokens {start}..{start + count} of {Length}");
        _view.ReadArray(start * 2, destination, offset, count);
        if (!BitConverter.IsLittleEndian)
            BinaryPrimitives.ReverseEndianness(destination.AsSpan(offset, count), destination.AsSpan(offset, count));
    }

    /// <summary>
    /// Reads <paramref name="count"/> tokens from <paramref name="start"/> into <paramref name="destination"/>
    /// as int64 (the dtype of embedding indices), checking each id against the vocabulary.
    /// </summary>
    public void ReadChecked(long start, int count, Span<long> destination, ushort[] scratch)
    {
        Read(start, scratch, 0, count);
        for (int i = 0; i < count; i++)
        {
            ushort id = scratch[i];
            if (id >= VocabSize) throw OutOfRange(start + i, id);
            destination[i] = id;
        }
    }

    /// <summary>All tokens (for files below 2^31 tokens).</summary>
    public ushort[] ReadAll()
    {
        if (Length > Array.MaxLength) throw new InvalidOperationException($"{Path}: {Length} tokens do not fit one array");
        var all = new ushort[Length];
        Read(0, all, 0, all.Length);
        return all;
    }

    /// <summary>Calls <paramref name="visit"/> on consecutive chunks of the whole file.</summary>
    public void ForEachChunk(Action<ReadOnlySpan<ushort>> visit)
    {
        var buffer = new ushort[Chunk];
        for (long at = 0; at < Length; at += Chunk)
        {
            int n = (int)Math.Min(Chunk, Length - at);
            Read(at, buffer, 0, n);
            visit(buffer.AsSpan(0, n));
        }
    }

    /// <summary>Writes <paramref name="ids"/> as a little-endian uint16 token file, checking each against <paramref name="vocabSize"/>.</summary>
    public static void Write(string path, ReadOnlySpan<int> ids, int vocabSize)
    {
        using var writer = new TokenFileWriter(path, vocabSize);
        writer.Append(ids);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }

    private DatasetException OutOfRange(long position, int id) =>
        new(Path, DataErrorKind.IdOutOfRange, $"token {position} has id {id}, not below the vocabulary size {VocabSize}");

    private void CheckOnOpen(long fullCheckLimit, int sampleSize)
    {
        if (Length <= fullCheckLimit)
        {
            long at = 0;
            ForEachChunk(chunk =>
            {
                int bad = IndexOfOutOfRange(chunk);
                if (bad >= 0) throw OutOfRange(at + bad, chunk[bad]);
                at += chunk.Length;
            });
            return;
        }
        int edge = (int)Math.Min(Chunk, Length);
        var buffer = new ushort[edge];
        foreach (long start in new[] { 0, Length - edge })   // the first and last 64K ids
        {
            Read(start, buffer, 0, edge);
            int bad = IndexOfOutOfRange(buffer);
            if (bad >= 0) throw OutOfRange(start + bad, buffer[bad]);
        }
        var rng = new DataRng(0x5A3D1E);   // fixed: the same positions every time
        var one = new ushort[1];
        for (int i = 0; i < sampleSize; i++)
        {
            long position = rng.NextInt64(Length);
            Read(position, one, 0, 1);
            if (one[0] >= VocabSize) throw OutOfRange(position, one[0]);
        }
    }

    private int IndexOfOutOfRange(ReadOnlySpan<ushort> ids) =>
        VocabSize == 65536 ? -1 : ids.IndexOfAnyInRange((ushort)VocabSize, ushort.MaxValue);
}

/// <summary>Appends ids to a new little-endian uint16 token file.</summary>
public sealed class TokenFileWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly int _vocabSize;
    private readonly string _path;
    private ushort[] _buffer = new ushort[1 << 16];

    /// <summary>Creates (or truncates) <paramref name="path"/>.</summary>
    public TokenFileWriter(string path, int vocabSize)
    {
        if (vocabSize is <= 0 or > 65536) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "uint16 ids: 1..65536");
        _path = path;
        _vocabSize = vocabSize;
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>Tokens written so far.</summary>
    public long Count { get; private set; }

    /// <summary>Appends <paramref name="ids"/>.</summary>
    public void Append(ReadOnlySpan<int> ids)
    {
        if (_buffer.Length < ids.Length) _buffer = new ushort[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)_vocabSize)
                throw new DatasetException(_path, DataErrorKind.IdOutOfRange, $"id {ids[i]} is not below the vocabulary size {_vocabSize}");
            _buffer[i] = BitConverter.IsLittleEndian ? (ushort)ids[i] : BinaryPrimitives.ReverseEndianness((ushort)ids[i]);
        }
        _stream.Write(MemoryMarshal.AsBytes(_buffer.AsSpan(0, ids.Length)));
        Count += ids.Length;
    }

    /// <summary>Appends ids stored as uint16 (already checked).</summary>
    public void Append(ReadOnlySpan<ushort> ids)
    {
        if (BitConverter.IsLittleEndian) _stream.Write(MemoryMarshal.AsBytes(ids));
        else
        {
            if (_buffer.Length < ids.Length) _buffer = new ushort[ids.Length];
            BinaryPrimitives.ReverseEndianness(ids, _buffer.AsSpan(0, ids.Length));
            _stream.Write(MemoryMarshal.AsBytes(_buffer.AsSpan(0, ids.Length)));
        }
        Count += ids.Length;
    }

    /// <inheritdoc/>
    public void Dispose() => _stream.Dispose();
}
