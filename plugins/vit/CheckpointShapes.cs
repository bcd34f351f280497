using System.Globalization;
using System.Text.RegularExpressions;
using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Interop;
using Crate.Core.Modules;

namespace Crate.Plugins.Vit;

/// <summary>A checkpoint that is not a model of this task (a key is missing, a shape is not the model's). A checkpoint
/// whose shape contradicts a key the user set explicitly raises a <see cref="ConfigException"/> naming the key and both values.</summary>
public sealed class CheckpointShapeException(string message) : CheckpointException(message);

/// <summary>The shape to build for a checkpoint, and how each part of it was decided.</summary>
public sealed record CheckpointShape(VisionShape Shape, IReadOnlyList<string> Notes);

/// <summary>
/// Decides a model's shape for <c>evaluate</c> from three sources, strongest first: keys the user set
/// (<c>--set model.KEY=...</c>, or a named <c>model.size</c>), what the checkpoint's tensor shapes fix, and
/// the preset. The weights fix image_size, patch_size, channels, num_classes, dim, depth, the projection
/// width K·p and (ViT) mlp_ratio; a key set explicitly to another value is an error naming both values.
/// The number of heads is not stored in the weights (every split of K·p fits them) except when
/// CRATE has one head and no output map: it comes from an explicit key, else from the preset when the preset's
/// width matches the file, else from a named configuration of the paper with the same width and depth,
/// else from a head width of 64 (timm's and the reference's default), and the notes say which.
/// </summary>
public static partial class CheckpointShapes
{
    private sealed record Fact(double Value, string Evidence);

    private sealed record Facts(Dictionary<string, Fact> Fixed, int InnerWidth, string InnerEvidence, int? Heads,
        int HeadsGuess, string HeadsGuessWhy);

    /// <summary>Resolves the shape of <paramref name="model"/> for the checkpoint at <paramref name="path"/> with tensor <paramref name="shapes"/>.</summary>
    public static CheckpointShape Resolve(string model, string path, IReadOnlyDictionary<string, long[]> shapes,
        ResolvedConfig config, IReadOnlySet<string> explicitKeys)
    {
        var facts = model == VisionShape.Crate ? CrateFacts(shapes, path) : VitFacts(shapes, path);
        string size = config.Get(VitKeys.Size);
        bool namedSize = explicitKeys.Contains(VitKeys.Size.Name) && size != "custom";
        if (namedSize) VisionShape.From(config, model);                   // a named size against explicit dim/depth/heads
        bool IsExplicit(ConfigKey key) => explicitKeys.Contains(key.Name)
            || (namedSize && (key == VitKeys.Dim || key == VitKeys.Depth || key == VitKeys.Heads));
        string Origin(ConfigKey key) => explicitKeys.Contains(key.Name) ? "set with --set" : $"from model.size={size}";

        // What the config says before the file is consulted: explicit values as given, a named size's
        // dim/depth/heads, else the preset's values (0 where the preset leaves them to model.size).
        var named = size != "custom" ? VisionShape.Named(model, size) : default;
        int Configured(ConfigKey<long> key, int fromSize) =>
            explicitKeys.Contains(key.Name) || size == "custom" ? config.GetInt(key) : fromSize;
        var configuredValues = new Dictionary<string, double>
        {
            [ImageKeys.ImageSize.Name] = config.GetInt(ImageKeys.ImageSize), [ImageKeys.PatchSize.Name] = config.GetInt(ImageKeys.PatchSize),
            [ImageKeys.Channels.Name] = config.GetInt(ImageKeys.Channels), [ImageKeys.NumClasses.Name] = config.GetInt(ImageKeys.NumClasses),
            [VitKeys.Dim.Name] = Configured(VitKeys.Dim, named.Dim), [VitKeys.Depth.Name] = Configured(VitKeys.Depth, named.Depth),
            [VitKeys.MlpRatio.Name] = config.Get(VitKeys.MlpRatio),
        };
        int configuredHeads = Configured(VitKeys.Heads, named.Heads);
        int configuredDim = (int)configuredValues[VitKeys.Dim.Name];
        int configuredHeadDim = config.GetInt(VitKeys.HeadDim) is > 0 and var p ? p : configuredHeads > 0 ? configuredDim / configuredHeads : 0;
        var values = new Dictionary<string, double>(configuredValues);
        var inferred = new List<string>();
        var checkedKeys = new List<string>();
        foreach (var key in VitKeys.ShapeKeys)
        {
            if (!facts.Fixed.TryGetValue(key.Name, out var fact)) continue;
            if (IsExplicit(key))
            {
                if (Math.Abs(configuredValues[key.Name] - fact.Value) > 1e-9)
                    throw Mismatch(key.Name, configuredValues[key.Name], Origin(key), fact, path);
                checkedKeys.Add($"{key.Name}={Fmt(fact.Value)}");
            }
            else
            {
                values[key.Name] = fact.Value;
                inferred.Add($"{key.Name}={Fmt(fact.Value)} ({fact.Evidence})");
            }
        }

        var notes = new List<string>();
        int dim = (int)values[VitKeys.Dim.Name], inner = facts.InnerWidth;
        int heads;
        if (IsExplicit(VitKeys.Heads))
        {
            heads = configuredHeads;
            if (heads <= 0) throw new ConfigException("config key 'model.heads' is 0; give the number of heads or leave the key out");
            if (facts.Heads is int fileHeads && fileHeads != heads)
                throw Mismatch(VitKeys.Heads.Name, heads, Origin(VitKeys.Heads), new Fact(fileHeads, facts.InnerEvidence), path);
            if (inner % heads != 0)
                throw new ConfigException($"config key 'model.heads' is {heads} ({Origin(VitKeys.Heads)}), which does not divide " +
                                                   $"the projection width {inner} of the checkpoint {path} ({facts.InnerEvidence})");
            checkedKeys.Add($"model.heads={heads}");
        }
        else if (facts.Heads is int fixedHeads)
        {
            heads = fixedHeads;
            inferred.Add($"model.heads={heads} (one head: no output projection and {facts.InnerEvidence})");
        }
        else if (configuredDim == dim && configuredHeads > 0 && configuredHeads * configuredHeadDim == inner)
        {
            heads = configuredHeads;
            notes.Add($"model.heads={heads} is not stored in the weights; taken from the preset's configuration (same width {dim}).");
        }
        else
        {
            heads = facts.HeadsGuess;
            notes.Add($"model.heads={heads} is not stored in the weights; {facts.HeadsGuessWhy} Give --set model.heads=K if it differs.");
        }

        int headDim = inner / heads;
        if (IsExplicit(VitKeys.HeadDim) && config.GetInt(VitKeys.HeadDim) != 0 && config.GetInt(VitKeys.HeadDim) != headDim)
            throw Mismatch(VitKeys.HeadDim.Name, config.GetInt(VitKeys.HeadDim), "set with --set",
                new Fact(headDim, $"{facts.InnerEvidence} over {heads} heads"), path);
        if (model == VisionShape.Vit && headDim * heads != dim)
            throw new ConfigException($"config key 'model.heads' is {heads}, which does not divide the width {dim} of the ViT in {path}");

        if (inferred.Count > 0) notes.Insert(0, "Inferred from the checkpoint: " + string.Join("; ", inferred) + ".");
        if (checkedKeys.Count > 0) notes.Add("Set explicitly and consistent with the checkpoint: " + string.Join(", ", checkedKeys) + ".");
        if (model == VisionShape.Crate)
            notes.Add($"Not stored in a state_dict, taken from the config: model.pool={config.Get(VitKeys.Pool)}, " +
                      $"model.eta={Fmt(config.Get(VitKeys.Eta))}, model.lambda={Fmt(config.Get(VitKeys.Lambda))}.");

        var shape = new VisionShape((int)values[ImageKeys.ImageSize.Name], (int)values[ImageKeys.PatchSize.Name],
            (int)values[ImageKeys.Channels.Name], (int)values[ImageKeys.NumClasses.Name], dim, (int)values[VitKeys.Depth.Name],
            heads, headDim, values[VitKeys.MlpRatio.Name]);
        return new CheckpointShape(shape, notes);
    }

    private static ConfigException Mismatch(string key, double configured, string origin, Fact fact, string path) =>
        new($"config key '{key}' is {Fmt(configured)} ({origin}), but the checkpoint {path} has {Fmt(fact.Value)} ({fact.Evidence}); " +
            $"drop the key to take the checkpoint's value, or give a checkpoint of that shape");

    /// <summary>The CRATE classifier (reference names, <see cref="CrateShapeInference"/>).</summary>
    private static Facts CrateFacts(IReadOnlyDictionary<string, long[]> shapes, string path)
    {
        InferredCrateShape inferred;
        try { inferred = CrateShapeInference.Infer(shapes); }
        catch (CrateShapeException e) { throw new CheckpointShapeException($"{path}: {e.Message} (is this a ViT checkpoint? then use --model vit)"); }
        var c = inferred.Config;
        string patchKey = "to_patch_embedding.1.weight", qkvKey = "transformer.layers.0.0.fn.qkv.weight";
        var fixedValues = new Dictionary<string, Fact>
        {
            [VitKeys.Dim.Name] = new(c.Dim, Describe(shapes, "cls_token")),
            [VitKeys.Depth.Name] = new(c.Depth, $"transformer.layers.0-{c.Depth - 1}"),
            [ImageKeys.NumClasses.Name] = new(c.NumClasses, Describe(shapes, "mlp_head.1.weight")),
            [ImageKeys.PatchSize.Name] = new(c.PatchSize, $"{Describe(shapes, patchKey)} = P*P*C"),
            [ImageKeys.Channels.Name] = new(c.Channels, $"{Describe(shapes, patchKey)} = P*P*C, C of 1 or 3"),
            [ImageKeys.ImageSize.Name] = new(c.ImageSize, $"{Describe(shapes, "pos_embedding")}: a {c.ImageSize / c.PatchSize}x{c.ImageSize / c.PatchSize} grid of patches"),
        };
        int inner = c.Heads * c.HeadDim;
        string why = inferred.Notes.FirstOrDefault(n => n.StartsWith("Heads", StringComparison.Ordinal)) ?? "";
        return new Facts(fixedValues, inner, Describe(shapes, qkvKey), inferred.HeadsDetermined ? c.Heads : null, c.Heads,
            why.Length > 0 ? why : $"assumed {c.Heads}.");
    }

    /// <summary>The ViT baseline (timm names: patch_embed.proj, cls_token, pos_embed, blocks.{i}, fc_norm, head).</summary>
    private static Facts VitFacts(IReadOnlyDictionary<string, long[]> shapes, string path)
    {
        long[] Get(string key) => shapes.TryGetValue(key, out var s) ? s
            : throw new CheckpointShapeException($"{path}: not a ViT (timm) state_dict: key '{key}' is missing (is this a CRATE checkpoint? then use --model crate).");
        int dim = (int)Get("cls_token")[^1];
        var proj = Get("patch_embed.proj.weight");                               // [d, C, P, P]
        if (proj.Length != 4 || proj[2] != proj[3])
            throw new CheckpointShapeException($"{path}: patch_embed.proj.weight has shape [{string.Join(", ", proj)}], not [d, C, P, P]");
        int channels = (int)proj[1], patch = (int)proj[2];
        int classes = (int)Get("head.weight")[0];
        int patches = (int)Get("pos_embed")[1] - 1;
        int side = (int)Math.Round(Math.Sqrt(patches));
        if (side * side != patches)
            throw new CheckpointShapeException($"{path}: pos_embed has {patches + 1} tokens; {patches} patches is not a square grid");
        int depth = shapes.Keys.Select(k => BlockIndex().Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();
        if (depth == 0) throw new CheckpointShapeException($"{path}: not a ViT (timm) state_dict: no 'blocks.{{i}}' keys.");
        int hidden = (int)Get("blocks.0.mlp.fc1.weight")[0];
        var fixedValues = new Dictionary<string, Fact>
        {
            [VitKeys.Dim.Name] = new(dim, Describe(shapes, "cls_token")),
            [VitKeys.Depth.Name] = new(depth, $"blocks.0-{depth - 1}"),
            [ImageKeys.NumClasses.Name] = new(classes, Describe(shapes, "head.weight")),
            [ImageKeys.PatchSize.Name] = new(patch, Describe(shapes, "patch_embed.proj.weight")),
            [ImageKeys.Channels.Name] = new(channels, Describe(shapes, "patch_embed.proj.weight")),
            [ImageKeys.ImageSize.Name] = new(side * patch, $"{Describe(shapes, "pos_embed")}: a {side}x{side} grid of patches"),
            [VitKeys.MlpRatio.Name] = new((double)hidden / dim, Describe(shapes, "blocks.0.mlp.fc1.weight")),
        };
        var named = ModelZoo.Vit.FirstOrDefault(kv => kv.Value.Dim == dim && kv.Value.Depth == depth);
        int width = new[] { 64, 32, 16, 8, 4, 2, 1 }.First(w => dim % w == 0);
        var (heads, why) = named.Value is { } v
            ? (v.Heads, $"took {v.Heads} from the named configuration {named.Key} (width {dim}, depth {depth}).")
            : (dim / width, $"assumed a head width of {width}, i.e. {dim / width} heads.");
        return new Facts(fixedValues, dim, Describe(shapes, "blocks.0.attn.qkv.weight"), null, heads, why);
    }

    private static string Describe(IReadOnlyDictionary<string, long[]> shapes, string key) =>
        shapes.TryGetValue(key, out var s) ? $"{key} [{string.Join(", ", s)}]" : key;

    private static string Fmt(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^blocks\.(\d+)\.")]
    private static partial Regex BlockIndex();
}
