using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Crate.Core.Interop;

/// <summary>
/// Loads and saves a module's state_dict in PyTorch's formats (TorchSharp.PyBridge), under the
/// reference implementation's parameter names, so a checkpoint of the public CRATE code evaluates here
/// and ours evaluates there. Loading is strict: the file's keys and shapes are checked against the
/// model first and every difference is reported in one <see cref="CheckpointMismatchException"/>.
/// </summary>
public static class Checkpoint
{
    /// <summary>
    /// Loads <paramref name="path"/> (.pth/.pt/.bin from torch.save(state_dict), or .safetensors) into
    /// <paramref name="module"/>. Keys in <paramref name="ignore"/> are dropped from the file first
    /// (e.g. nanoGPT's tied <c>lm_head.weight</c>); a <c>module.</c> prefix on every key (DataParallel)
    /// is stripped. Throws <see cref="CheckpointMismatchException"/> before touching the model if any
    /// key is missing or unexpected or any shape differs.
    /// </summary>
    public static void Load(nn.Module module, string path, IEnumerable<string>? ignore = null)
    {
        var loaded = StateDictFile.Read(path);
        try
        {
            var renamed = StripDataParallelPrefix(loaded);
            foreach (var key in ignore ?? [])
                renamed.Remove(key);
            Check(module, path, renamed.ToDictionary(kv => kv.Key, kv => kv.Value.shape));
            var (missing, unexpected) = module.load_state_dict(renamed, strict: true);
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new CheckpointMismatchException(path, missing.ToList(), unexpected.ToList(), []);
        }
        finally
        {
            foreach (var tensor in loaded.Values)
                tensor.Dispose();
        }
    }

    /// <summary>Saves the state_dict of <paramref name="module"/>: .safetensors by extension, else torch.save's zip format.</summary>
    public static void Save(nn.Module module, string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null)
            Directory.CreateDirectory(dir);
        if (Path.GetExtension(path).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
            module.save_safetensors(path);
        else
            module.save_py(path);
    }

    /// <summary>
    /// Compares a file's key → shape map with <paramref name="module"/>'s state_dict and throws a
    /// <see cref="CheckpointMismatchException"/> listing every difference.
    /// </summary>
    public static void Check(nn.Module module, string path, IReadOnlyDictionary<string, long[]> fileShapes)
    {
        var model = module.state_dict();
        var missing = model.Keys.Where(k => !fileShapes.ContainsKey(k)).ToList();
        var unexpected = fileShapes.Keys.Where(k => !model.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var mismatches = model
            .Where(kv => fileShapes.TryGetValue(kv.Key, out var found) && !found.SequenceEqual(kv.Value.shape))
            .Select(kv => new ShapeMismatch(kv.Key, kv.Value.shape, fileShapes[kv.Key]))
            .ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || mismatches.Count > 0)
            throw new CheckpointMismatchException(path, missing, unexpected, mismatches);
    }

    private static Dictionary<string, Tensor> StripDataParallelPrefix(Dictionary<string, Tensor> stateDict)
    {
        const string prefix = "module.";
        bool all = stateDict.Count > 0 && stateDict.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal));
        return all
            ? stateDict.ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value)
            : new Dictionary<string, Tensor>(stateDict);
    }
}
