using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>
/// Saves and restores every entry of a module's <c>state_dict</c> (parameters and buffers) bit-exactly,
/// whatever device the module is on: each tensor is written from a CPU copy with TorchSharp's tensor
/// encoding (dtype, shape, raw little-endian bytes) under its state_dict name, and read back into a CPU
/// tensor that is copied into the module's own tensor.
/// </summary>
public static class ModuleState
{
    private const string Magic = "crate-module-state";
    private const int Version = 1;

    /// <summary>Writes <paramref name="module"/>'s state to <paramref name="path"/>.</summary>
    public static void Save(nn.Module module, string path)
    {
        using var scope = NewDisposeScope();
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            var entries = module.state_dict();
            writer.Write(Magic); writer.Write(Version); writer.Write(entries.Count);
            foreach (var (name, tensor) in entries)
            {
                writer.Write(name);
                tensor.detach().cpu().contiguous().Save(writer);
            }
        }
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// The name → shape of every entry of a file written by <see cref="Save"/>, without a module (e.g. to
    /// infer a model's shape from a checkpoint before building it).
    /// </summary>
    public static Dictionary<string, long[]> ReadShapes(string path)
    {
        using var scope = NewDisposeScope();
        using var reader = new BinaryReader(File.OpenRead(path), System.Text.Encoding.UTF8);
        if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
            throw new InvalidDataException($"{path}: not a {Magic} file of version {Version}");
        int count = reader.ReadInt32();
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            shapes[name] = Tensor.Load(reader).shape;
        }
        return shapes;
    }

    /// <summary>
    /// Restores a state written by <see cref="Save"/>. Names, shapes and dtypes must match exactly;
    /// a mismatch throws an <see cref="InvalidDataException"/> naming the file and the entry.
    /// </summary>
    public static void Load(nn.Module module, string path)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var reader = new BinaryReader(File.OpenRead(path), System.Text.Encoding.UTF8);
        if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
            throw new InvalidDataException($"{path}: not a {Magic} file of version {Version}");
        var targets = module.state_dict();
        int count = reader.ReadInt32();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            if (!targets.TryGetValue(name, out var target))
                throw new InvalidDataException($"{path}: entry '{name}' is not in the module (is this checkpoint from another model?)");
            var loaded = Tensor.Load(reader);
            if (loaded.dtype != target.dtype || !loaded.shape.SequenceEqual(target.shape))
                throw new InvalidDataException($"{path}: entry '{name}' is {loaded.dtype} [{string.Join(", ", loaded.shape)}], " +
                                               $"the module has {target.dtype} [{string.Join(", ", target.shape)}]");
            target.copy_(loaded);
            seen.Add(name);
        }
        var missing = targets.Keys.Where(k => !seen.Contains(k)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"{path}: the module's entries {string.Join(", ", missing.Take(5))} are missing from the file");
    }
}
