using System.Buffers.Binary;
using System.Collections;
using System.Text.Json;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Crate.Core.Interop;

/// <summary>File formats of a PyTorch state_dict.</summary>
public enum CheckpointFormat
{
    /// <summary><c>torch.save(state_dict)</c> zip archive (.pth, .pt, .bin).</summary>
    PyTorch,
    /// <summary>safetensors (8-byte header length, JSON header, raw little-endian data).</summary>
    Safetensors,
}

/// <summary>
/// Reads state_dict files through TorchSharp.PyBridge: the key → shape map (a safetensors header is
/// read without the data) and the tensors themselves.
/// </summary>
public static class StateDictFile
{
    /// <summary>The format of <paramref name="path"/>: by extension, else by content (zip magic → PyTorch).</summary>
    public static CheckpointFormat FormatOf(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext == ".safetensors")
            return CheckpointFormat.Safetensors;
        if (ext is ".pth" or ".pt" or ".bin" or ".ckpt")
            return CheckpointFormat.PyTorch;
        if (!File.Exists(path))
            throw new CheckpointFormatException(path, "file not found.");
        Span<byte> magic = stackalloc byte[4];
        using (var stream = File.OpenRead(path))
            if (stream.Read(magic) < 4)
                throw new CheckpointFormatException(path, "file is too short to be a state_dict.");
        return magic[0] == 0x50 && magic[1] == 0x4b ? CheckpointFormat.PyTorch : CheckpointFormat.Safetensors;
    }

    /// <summary>Reads every tensor of the file (CPU; the caller owns and disposes them).</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path))
            throw new CheckpointFormatException(path, "file not found.");
        try
        {
            if (FormatOf(path) == CheckpointFormat.Safetensors)
            {
                ReadSafetensorsHeader(path);   // sizes and offsets checked against the file before PyBridge trusts them
                return Safetensors.LoadStateDict(path);
            }
            PickleGuard.Check(path);           // only tensor-rebuilding globals, sizes within the archive
            var table = PyTorchUnpickler.UnpickleStateDict(path);
            var result = new Dictionary<string, Tensor>();
            foreach (DictionaryEntry entry in table)
                if (entry.Value is Tensor t)
                    result[(string)entry.Key] = t;
            return result;
        }
        catch (Exception e) when (e is not CheckpointFormatException and not OutOfMemoryException)
        {
            throw new CheckpointFormatException(path, $"cannot read the state_dict ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    /// <summary>
    /// Key → shape of every tensor in the file. For safetensors only the JSON header is read; for a
    /// PyTorch file the tensors are read and disposed.
    /// </summary>
    public static Dictionary<string, long[]> ReadShapes(string path)
    {
        if (FormatOf(path) == CheckpointFormat.Safetensors)
            return ReadSafetensorsHeader(path);
        using var scope = NewDisposeScope();
        return Read(path).ToDictionary(kv => kv.Key, kv => kv.Value.shape);
    }

    private static Dictionary<string, long[]> ReadSafetensorsHeader(string path)
    {
        if (!File.Exists(path))
            throw new CheckpointFormatException(path, "file not found.");
        using var stream = File.OpenRead(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Read(lengthBytes) < 8)
            throw new CheckpointFormatException(path, "file is too short to be safetensors.");
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (length == 0 || length > (ulong)Math.Min(stream.Length - 8, 100_000_000))
            throw new CheckpointFormatException(path, $"safetensors header length {length} does not fit the file.");
        var header = new byte[length];
        stream.ReadExactly(header);
        long dataBytes = stream.Length - 8 - (long)length;
        try
        {
            using var doc = JsonDocument.Parse(header);
            var shapes = new Dictionary<string, long[]>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                    continue;
                var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                CheckTensorEntry(path, prop.Name, prop.Value, shape, dataBytes);
                shapes[prop.Name] = shape;
            }
            return shapes;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException(path, $"invalid safetensors header ({e.Message}).", e);
        }
    }

    private static readonly Dictionary<string, int> SafetensorsDtypeBytes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>A tensor's dtype is known, its shape non-negative and its data_offsets a range of the data that holds exactly its elements.</summary>
    private static void CheckTensorEntry(string path, string name, JsonElement entry, long[] shape, long dataBytes)
    {
        string dtype = entry.GetProperty("dtype").GetString() ?? "";
        if (!SafetensorsDtypeBytes.TryGetValue(dtype, out int size))
            throw new CheckpointFormatException(path, $"tensor '{name}' has dtype '{dtype}', not one this reader knows ({string.Join(", ", SafetensorsDtypeBytes.Keys)}).");
        var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        double elements = shape.Aggregate(1.0, (a, d) => a * d);
        if (shape.Any(d => d < 0) || offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataBytes
            || elements * size != offsets[1] - offsets[0])
            throw new CheckpointFormatException(path,
                $"tensor '{name}' ({dtype} [{string.Join(", ", shape)}]) does not match its data_offsets [{string.Join(", ", offsets)}] " +
                $"in {dataBytes} bytes of data.");
    }
}
