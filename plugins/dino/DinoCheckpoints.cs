using System.Globalization;
using System.Text.RegularExpressions;
using Crate.Core.Contract;
using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Dino;

/// <summary>A checkpoint that holds no backbone of the model asked for (a key is missing, a shape does not fit).</summary>
public sealed class DinoCheckpointException(string message) : CheckpointException(message);

/// <summary>A teacher backbone read from a checkpoint, with the network that owns it (dispose it) and how its shape was decided.</summary>
public sealed record LoadedBackbone(IDinoBackbone Backbone, nn.Module Owner, DinoShape Shape, IReadOnlyList<string> Notes) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Owner.Dispose();
}

/// <summary>
/// The weights <c>evaluate dino</c> reads, as a teacher backbone: a dino run's trainer checkpoint (its
/// <c>checkpoints/</c> folder, one <c>step-*</c> folder or the teacher's <c>module-1.bin</c>: backbone and head under
/// DINO's names), or a PyTorch state_dict (<c>.pth</c>/<c>.safetensors</c>) holding a backbone: DINO's released
/// backbone weights (timm names), a DINO teacher/student state_dict (<c>backbone.*</c> kept, <c>head.*</c> dropped,
/// a <c>module.</c> prefix stripped), or a supervised CRATE classifier (its class Linear <c>mlp_head.1.*</c> dropped).
/// The shape is read off the tensors; the number of heads, which no tensor stores, comes from an explicit
/// <c>model.heads</c>, else the preset when its width matches, else a named size of that width and depth, else a head
/// width of 64.
/// </summary>
public static partial class DinoCheckpoints
{
    private const string ModuleStateMagic = "crate-module-state";
    private const int TeacherModule = 1;

    /// <summary>Loads the teacher backbone of <paramref name="request"/>'s checkpoint for its model.</summary>
    public static LoadedBackbone Load(CheckpointRequest request)
    {
        string path = request.CheckpointPath;
        string? moduleFile = Directory.Exists(path) ? TeacherFile(path) : File.Exists(path) && IsModuleState(path) ? path : null;
        if (moduleFile is null && !File.Exists(path)) throw new CheckpointFormatException(path, "file not found.");
        if (moduleFile is not null)
        {
            var shapes = ReadModuleShapes(moduleFile);
            var backboneShapes = Prefixed(shapes, "backbone.")
                ?? throw new DinoCheckpointException($"{moduleFile}: not a dino network (no 'backbone.*' keys); give the teacher's module-1.bin or the run's checkpoint folder");
            var (shape, notes) = Infer(request, moduleFile, backboneShapes, shapes);
            torch.manual_seed(0);
            var network = shape.Build(request.Model);
            try
            {
                ModuleState.Load(network, moduleFile);
            }
            catch (Exception e) when (e is KeyNotFoundException or ArgumentException or InvalidDataException)
            {
                network.Dispose();
                throw new DinoCheckpointException($"{moduleFile}: does not fit a {request.Model} dino network of shape {shape} ({e.Message})");
            }
            notes.Insert(0, $"{request.Model} teacher ({shape}) from the trainer checkpoint {moduleFile}");
            return new LoadedBackbone(network.Backbone, network, shape, notes);
        }

        var tensors = StateDictFile.Read(path);
        try
        {
            var (kept, dropped) = BackboneTensors(tensors);
            var (shape, notes) = Infer(request, path, kept.ToDictionary(kv => kv.Key, kv => kv.Value.shape), null);
            torch.manual_seed(0);
            var backbone = shape.BuildBackbone(request.Model);
            Checkpoint.Check(backbone.Module, path, kept.ToDictionary(kv => kv.Key, kv => kv.Value.shape));
            backbone.Module.load_state_dict(kept, strict: true);
            notes.Insert(0, $"{request.Model} backbone ({shape}) from the PyTorch state_dict {path} ({StateDictFile.FormatOf(path)})" +
                            (dropped.Count > 0 ? $"; not a backbone tensor, dropped: {Summarize(dropped)}" : ""));
            return new LoadedBackbone(backbone, backbone.Module, shape, notes);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static string TeacherFile(string folder)
    {
        string direct = Path.Combine(folder, CheckpointStore.ModuleFile(TeacherModule));
        if (File.Exists(direct)) return direct;
        string resolved;
        try { resolved = CheckpointStore.Resolve(folder); }
        catch (TrainerConfigException e) { throw new CheckpointFormatException(folder, e.Message, e); }
        string file = Path.Combine(resolved, CheckpointStore.ModuleFile(TeacherModule));
        return File.Exists(file) ? file
            : throw new CheckpointFormatException(folder, $"checkpoint without {CheckpointStore.ModuleFile(TeacherModule)} (the teacher); is it a dino run's?");
    }

    /// <summary>The backbone tensors of a state_dict under the backbone's own names, and the names dropped.</summary>
    private static (Dictionary<string, Tensor> Kept, List<string> Dropped) BackboneTensors(Dictionary<string, Tensor> tensors)
    {
        var named = tensors.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal))
            ? tensors.ToDictionary(kv => kv.Key["module.".Length..], kv => kv.Value) : new Dictionary<string, Tensor>(tensors);
        var dropped = new List<string>();
        if (named.Keys.Any(k => k.StartsWith("backbone.", StringComparison.Ordinal)))
        {
            dropped.AddRange(named.Keys.Where(k => !k.StartsWith("backbone.", StringComparison.Ordinal)));
            return (named.Where(kv => kv.Key.StartsWith("backbone.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["backbone.".Length..], kv => kv.Value), dropped);
        }
        string[] heads = named.ContainsKey("to_patch_embedding.2.weight") ? ["mlp_head.1."] : named.ContainsKey("patch_embed.proj.weight") ? ["head."] : [];
        dropped.AddRange(named.Keys.Where(k => heads.Any(h => k.StartsWith(h, StringComparison.Ordinal))));
        return (named.Where(kv => !dropped.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value), dropped);
    }

    private static (DinoShape Shape, List<string> Notes) Infer(CheckpointRequest request, string path, IReadOnlyDictionary<string, long[]> backbone,
        IReadOnlyDictionary<string, long[]>? network)
    {
        var config = request.Config;
        bool crate = request.Model == DinoShape.Crate;
        long[] Get(string key) => backbone.TryGetValue(key, out var s) ? s
            : throw new DinoCheckpointException($"{path}: not a {request.Model} backbone: key '{key}' is missing" +
                                                (crate ? " (is it a ViT? then use --model vit)" : " (is it a CRATE? then use --model crate)"));
        int dim = (int)Get("cls_token")[^1];
        var table = Get(crate ? "pos_embedding" : "pos_embed");
        int grid = (int)Math.Round(Math.Sqrt(table[1] - 1));
        if (grid * grid != table[1] - 1)
            throw new DinoCheckpointException($"{path}: the position table has {table[1] - 1} patch rows, not a square grid");
        int patch, channels, depth;
        double mlpRatio = config.Get(DinoKeys.MlpRatio);
        if (crate)
        {
            long patchDim = Get("to_patch_embedding.2.weight")[1];
            int configured = config.GetInt(DinoKeys.Channels);
            channels = new[] { configured, 1, 3 }.First(c => IsSquare(patchDim, c, out _) || c == 3);
            if (!IsSquare(patchDim, channels, out patch))
                throw new DinoCheckpointException($"{path}: to_patch_embedding.2.weight has {patchDim} inputs, not P*P*C for C of 1 or 3");
            depth = Depth(backbone, CrateLayer());
        }
        else
        {
            var proj = Get("patch_embed.proj.weight");                                   // [d, C, P, P]
            (channels, patch) = ((int)proj[1], (int)proj[2]);
            depth = Depth(backbone, VitBlock());
            mlpRatio = (double)Get("blocks.0.mlp.fc1.weight")[0] / dim;
        }
        if (depth == 0) throw new DinoCheckpointException($"{path}: no layers found in the {request.Model} backbone");

        var notes = new List<string>
        {
            FormattableString.Invariant($"Inferred from the checkpoint: dim={dim}, depth={depth}, patch_size={patch}, channels={channels}, a {grid}x{grid} position table ({grid * patch}px)."),
        };
        int heads = Heads(request, dim, depth, notes);
        int global = config.GetInt(DinoKeys.GlobalSize);
        if (global % patch != 0)
            throw new ConfigException($"config key 'data.global_size' is {global}, not a multiple of the checkpoint's patch size {patch}; set data.global_size");
        int hidden = config.GetInt(DinoKeys.HiddenDim), bottleneck = config.GetInt(DinoKeys.BottleneckDim), outDim = config.GetInt(DinoKeys.OutDim);
        if (network is not null)
        {
            long[] HeadShape(string key) => network.TryGetValue(key, out var s) ? s
                : throw new DinoCheckpointException($"{path}: not a dino network: key '{key}' is missing");
            hidden = (int)HeadShape("head.mlp.0.weight")[0];
            bottleneck = (int)HeadShape("head.mlp.4.weight")[0];
            outDim = (int)HeadShape("head.last_layer.weight_v")[0];
        }
        var shape = new DinoShape(grid * patch, patch, channels, dim, depth, heads, mlpRatio, config.Get(DinoKeys.Eta), config.Get(DinoKeys.Lambda),
            hidden, bottleneck, outDim, config.Get(DinoKeys.NormLastLayer));
        if (crate) notes.Add(FormattableString.Invariant($"Not stored in a state_dict, taken from the config: model.eta={shape.Eta}, model.lambda={shape.Lambda}."));
        notes.Add($"Evaluated at data.global_size={global}px (the position table is interpolated to a {global / patch}x{global / patch} grid when it differs).");
        return (shape, notes);
    }

    private static int Heads(CheckpointRequest request, int dim, int depth, List<string> notes)
    {
        var config = request.Config;
        if (request.ExplicitKeys.Contains(DinoKeys.Heads.Name) && config.GetInt(DinoKeys.Heads) > 0)
        {
            int explicitHeads = config.GetInt(DinoKeys.Heads);
            if (dim % explicitHeads != 0)
                throw new ConfigException($"config key 'model.heads' is {explicitHeads}, which does not divide the checkpoint's width {dim}");
            notes.Add($"model.heads={explicitHeads} set explicitly.");
            return explicitHeads;
        }
        try
        {
            var preset = DinoShape.From(config, request.Model);
            if (preset.Dim == dim)
            {
                notes.Add($"model.heads={preset.Heads} is not stored in the weights; taken from the preset's configuration (same width {dim}).");
                return preset.Heads;
            }
        }
        catch (ConfigException) { }
        var named = request.Model == DinoShape.Crate
            ? ModelZoo.Crate.Where(kv => kv.Value.Dim == dim && kv.Value.Depth == depth).Select(kv => (kv.Key, kv.Value.Heads)).FirstOrDefault()
            : ModelZoo.Vit.Where(kv => kv.Value.Dim == dim && kv.Value.Depth == depth).Select(kv => (kv.Key, kv.Value.Heads)).FirstOrDefault();
        if (named.Key is not null)
        {
            notes.Add($"model.heads={named.Heads} is not stored in the weights; taken from the named configuration {named.Key}. Give --set model.heads=K if it differs.");
            return named.Heads;
        }
        int width = new[] { 64, 32, 16, 8, 4, 2, 1 }.First(w => dim % w == 0);
        notes.Add($"model.heads={dim / width} is not stored in the weights; assumed a head width of {width}. Give --set model.heads=K if it differs.");
        return dim / width;
    }

    private static bool IsSquare(long patchDim, int channels, out int patch)
    {
        patch = 0;
        if (patchDim % channels != 0) return false;
        long area = patchDim / channels;
        patch = (int)Math.Round(Math.Sqrt(area));
        return (long)patch * patch == area;
    }

    private static int Depth(IReadOnlyDictionary<string, long[]> shapes, Regex layer) =>
        shapes.Keys.Select(k => layer.Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();

    private static Dictionary<string, long[]>? Prefixed(IReadOnlyDictionary<string, long[]> shapes, string prefix)
    {
        var kept = shapes.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        return kept.Count > 0 ? kept : null;
    }

    private static string Summarize(List<string> keys) => keys.Count <= 4 ? string.Join(", ", keys) : $"{string.Join(", ", keys.Take(4))} and {keys.Count - 4} more";

    private static Dictionary<string, long[]> ReadModuleShapes(string path)
    {
        try { return ModuleState.ReadShapes(path); }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            throw new CheckpointFormatException(path, $"cannot read the trainer checkpoint ({e.Message})", e);
        }
    }

    /// <summary>BinaryWriter's length-prefixed magic string that ModuleState.Save writes first.</summary>
    private static bool IsModuleState(string path)
    {
        Span<byte> head = stackalloc byte[1 + ModuleStateMagic.Length];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head[0] == ModuleStateMagic.Length
               && System.Text.Encoding.ASCII.GetString(head[1..]) == ModuleStateMagic;
    }

    [GeneratedRegex(@"^transformer\.layers\.(\d+)\.")]
    private static partial Regex CrateLayer();

    [GeneratedRegex(@"^blocks\.(\d+)\.")]
    private static partial Regex VitBlock();
}
