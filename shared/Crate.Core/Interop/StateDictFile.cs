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
                return Safetensors.LoadStateDict(path);
            var table = PyTorchUnpickler.UnpickleStateDict(path);
            var result = new Dictionary<string, Tensor>();
            foreach (DictionaryEntry entry in table)
                if (entry.Value is Tensor t)
                    result[(string)entry.Key] = t;
            return result;
        }
        catch (Exception e) when (e is not CheckpointFormatException)
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
        try
        {
            using var doc = JsonDocument.Parse(header);
            var shapes = new Dictionary<string, long[]>();
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                    continue;
                shapes[prop.Name] = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            }
            return shapes;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new CheckpointFormatException(path, $"invalid safetensors header ({e.Message}).", e);
        }
    }
}
