using System.Buffers.Binary;
using System.Text;

namespace Crate.Results;

/// <summary>One image of a summary value: its size and its encoded bytes (PNG as TorchSharp writes it).</summary>
public sealed record TensorBoardImage(int Height, int Width, int Colorspace, byte[] Encoded);

/// <summary>One value of an event's summary: a tag with a scalar (<c>simple_value</c>) or an image.</summary>
public sealed record TensorBoardValue(string Tag, float? Scalar, TensorBoardImage? Image);

/// <summary>One event: its wall time (seconds since 1970), step, file version (the first event of a file) and summary values.</summary>
public sealed record TensorBoardEvent(double WallTime, long Step, string? FileVersion, IReadOnlyList<TensorBoardValue> Values);

/// <summary>
/// An event file as read: its complete, checksummed events; <see cref="ValidLength"/> bytes of it are whole records.
/// <see cref="Problem"/> says why reading stopped before <see cref="Length"/> (a record cut short by a killed process, a
/// checksum that does not match), or is null when the whole file is well formed.
/// </summary>
public sealed record TensorBoardFile(string Path, IReadOnlyList<TensorBoardEvent> Events, long ValidLength, long Length, string? Problem);

/// <summary>
/// Reads TensorBoard event files (<c>events.out.tfevents.*</c>) without TensorBoard: TFRecord framing (a little-endian
/// uint64 length, the masked CRC-32C of those 8 bytes, the data, the masked CRC-32C of the data), each record's data an
/// <c>Event</c> protocol buffer (wall_time = 1, step = 2, file_version = 3, summary = 5; Summary.value = 1; Value.tag = 1,
/// simple_value = 2, image = 4; Image.height = 1, width = 2, colorspace = 3, encoded_image_string = 4). Fields it does not
/// know are skipped by their wire type. Used to check what the host writes and, on resume, to find what an earlier
/// attempt of a run already wrote.
/// </summary>
public static class TensorBoardEvents
{
    /// <summary>How every event file's name starts (TensorBoard only reads files named so).</summary>
    public const string FilePrefix = "events.out.tfevents.";

    /// <summary>The event files directly in <paramref name="directory"/>, in name order (TensorBoard's reading order); none when it does not exist.</summary>
    public static IReadOnlyList<string> Files(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, FilePrefix + "*").Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Reads <paramref name="path"/> up to its first incomplete or corrupt record.</summary>
    public static TensorBoardFile Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<TensorBoardEvent>();
        long offset = 0;
        string? problem = null;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < 12) { problem = $"record header cut short at byte {offset}"; break; }
            var header = bytes.AsSpan((int)offset, 8);
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)offset + 8, 4)) != MaskedCrc32C(header))
            {
                problem = $"length checksum does not match at byte {offset}";
                break;
            }
            long room = bytes.Length - offset - 16;
            if (room < 0 || length > (ulong)room) { problem = $"record of {length} bytes cut short at byte {offset}"; break; }
            var data = bytes.AsSpan((int)offset + 12, (int)length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)offset + 12 + (int)length, 4)) != MaskedCrc32C(data))
            {
                problem = $"data checksum does not match at byte {offset}";
                break;
            }
            try { events.Add(ParseEvent(data)); }
            catch (FormatException e) { problem = $"record at byte {offset} is no Event: {e.Message}"; break; }
            offset += 16 + (long)length;
        }
        return new TensorBoardFile(path, events, offset, bytes.Length, problem);
    }

    /// <summary>TFRecord's masked CRC-32C (Castagnoli): the CRC rotated right by 15 bits plus 0xa282ead8.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of <paramref name="data"/>.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
            crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(i =>
    {
        uint c = (uint)i;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static TensorBoardEvent ParseEvent(ReadOnlySpan<byte> data)
    {
        double wallTime = 0;
        long step = 0;
        string? version = null;
        var values = new List<TensorBoardValue>();
        var reader = new ProtoReader(data);
        while (reader.Next(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 1): wallTime = BitConverter.Int64BitsToDouble((long)reader.Fixed64()); break;
                case (2, 0): step = (long)reader.Varint(); break;
                case (3, 2): version = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (5, 2):
                    var summary = new ProtoReader(reader.Bytes());
                    while (summary.Next(out int f, out int w))
                        if ((f, w) == (1, 2)) values.Add(ParseValue(summary.Bytes()));
                        else summary.Skip(w);
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return new TensorBoardEvent(wallTime, step, version, values);
    }

    private static TensorBoardValue ParseValue(ReadOnlySpan<byte> data)
    {
        string tag = "";
        float? scalar = null;
        TensorBoardImage? image = null;
        var reader = new ProtoReader(data);
        while (reader.Next(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 2): tag = Encoding.UTF8.GetString(reader.Bytes()); break;
                case (2, 5): scalar = BitConverter.Int32BitsToSingle((int)reader.Fixed32()); break;
                case (4, 2): image = ParseImage(reader.Bytes()); break;
                default: reader.Skip(wire); break;
            }
        }
        return new TensorBoardValue(tag, scalar, image);
    }

    private static TensorBoardImage ParseImage(ReadOnlySpan<byte> data)
    {
        int height = 0, width = 0, colorspace = 0;
        byte[] encoded = [];
        var reader = new ProtoReader(data);
        while (reader.Next(out int field, out int wire))
        {
            switch (field, wire)
            {
                case (1, 0): height = (int)reader.Varint(); break;
                case (2, 0): width = (int)reader.Varint(); break;
                case (3, 0): colorspace = (int)reader.Varint(); break;
                case (4, 2): encoded = reader.Bytes().ToArray(); break;
                default: reader.Skip(wire); break;
            }
        }
        return new TensorBoardImage(height, width, colorspace, encoded);
    }

    /// <summary>The protocol buffer wire format, as far as events need it.</summary>
    private ref struct ProtoReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public bool Next(out int field, out int wire)
        {
            if (_position >= _data.Length) { field = wire = 0; return false; }
            ulong key = Varint();
            (field, wire) = ((int)(key >> 3), (int)(key & 7));
            if (field == 0) throw new FormatException("field number 0");
            return true;
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_position >= _data.Length) throw new FormatException("varint cut short");
                byte b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw new FormatException("varint longer than 10 bytes");
        }

        public ulong Fixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public uint Fixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

        public ReadOnlySpan<byte> Bytes()
        {
            ulong length = Varint();
            if (length > (ulong)(_data.Length - _position)) throw new FormatException("length-delimited field cut short");
            return Take((int)length);
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: Take(8); break;
                case 2: Bytes(); break;
                case 5: Take(4); break;
                default: throw new FormatException($"wire type {wire}");
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > _data.Length - _position) throw new FormatException("field cut short");
            var span = _data.Slice(_position, count);
            _position += count;
            return span;
        }
    }
}
