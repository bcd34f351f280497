using System.Text.RegularExpressions;
using Crate.Core.Modules;

namespace Crate.Core.Interop;

/// <summary>
/// A CRATE classifier shape read off a state_dict. <see cref="Config"/> is ready to build the model;
/// the flags say which values came from the caller (or, for one head, from the weights) rather than
/// from an assumption (see <see cref="Notes"/>).
/// </summary>
public sealed record InferredCrateShape(
    CrateConfig Config,
    bool HeadsDetermined,
    bool ChannelsDetermined,
    IReadOnlyList<string> Notes);

/// <summary>Raised when a state_dict is not a CRATE classifier's (names the missing key or the inconsistency).</summary>
public sealed class CrateShapeException(string message) : Contract.CheckpointException(message);

/// <summary>
/// Infers a CRATE classifier's shape (dim, depth, heads where possible, patch, channels, classes,
/// image size) from the tensor shapes of a state_dict with the reference names.
/// </summary>
public static partial class CrateShapeInference
{
    /// <summary>Reads the file's shapes (<see cref="StateDictFile.ReadShapes"/>) and infers from them.</summary>
    public static InferredCrateShape InferFromFile(string path, int? channels = null, int? heads = null) =>
        Infer(StateDictFile.ReadShapes(path), channels, heads);

    /// <summary>
    /// Infers the shape. What the tensors fix: d (<c>cls_token</c>), depth (<c>transformer.layers.{i}</c>),
    /// classes (<c>mlp_head.1.weight</c>), P²·C (<c>to_patch_embedding.1.weight</c>), K·p
    /// (<c>qkv.weight</c>), N (<c>pos_embedding</c>, square grid assumed). Not fixed: the number of heads
    /// (every split of K·p fits the same weights; the reference's named configs are matched by (d, depth),
    /// else the widest head width among 64, 32, 16, … that divides K·p is assumed, unless
    /// <paramref name="heads"/> is given) and, when P²·C could be either, the
    /// channel count (of 1 and 3 the one that fits, unless <paramref name="channels"/> is given).
    /// Pooling, η and λ are not in the weights; the reference defaults (cls, 0.1, 0.1) are returned.
    /// </summary>
    public static InferredCrateShape Infer(IReadOnlyDictionary<string, long[]> shapes, int? channels = null, int? heads = null)
    {
        var notes = new List<string>();
        long[] Get(string key) => shapes.TryGetValue(key, out var s)
            ? s
            : throw new CrateShapeException($"Not a CRATE classifier state_dict: key '{key}' is missing.");

        int dim = (int)Get("cls_token")[^1];
        int classes = (int)Get("mlp_head.1.weight")[0];
        int patchDim = (int)Get("to_patch_embedding.1.weight")[0];
        int tokens = (int)Get("pos_embedding")[1];
        int depth = shapes.Keys
            .Select(k => LayerIndex().Match(k))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value) + 1)
            .DefaultIfEmpty(0)
            .Max();
        if (depth == 0)
            throw new CrateShapeException("Not a CRATE classifier state_dict: no 'transformer.layers.{i}' keys.");
        int inner = (int)Get("transformer.layers.0.0.fn.qkv.weight")[0];

        // Channels and patch side from P²·C: with C ∈ {1, 3} at most one fits (k² = 3m² has no solution).
        int c;
        bool channelsDetermined = channels is not null;
        if (channels is int given)
            c = given;
        else if (patchDim % 3 == 0 && IsSquare(patchDim / 3))
            c = 3;
        else if (IsSquare(patchDim))
            c = 1;
        else
            throw new CrateShapeException($"Patch length {patchDim} is neither P² nor 3·P²; give the channel count.");
        if (!channelsDetermined)
            notes.Add($"Channels taken as {c} (the one of 1 or 3 that makes P²·C = {patchDim} a square).");
        if (patchDim % c != 0 || !IsSquare(patchDim / c))
            throw new CrateShapeException($"Patch length {patchDim} is not P²·{c} for an integer P.");
        int patch = (int)Math.Round(Math.Sqrt(patchDim / c));

        int numPatches = tokens - 1;
        if (!IsSquare(numPatches))
            throw new CrateShapeException($"pos_embedding has {tokens} tokens; {numPatches} patches is not a square grid.");
        int image = (int)Math.Round(Math.Sqrt(numPatches)) * patch;

        // Heads: not identifiable from the weights unless the output map is absent (K = 1, p = d).
        int k;
        bool headsDetermined = false;
        bool hasOut = shapes.ContainsKey("transformer.layers.0.0.fn.to_out.0.weight");
        if (heads is int h)
        {
            k = h;
            headsDetermined = true;
        }
        else if (!hasOut && inner == dim)
        {
            k = 1;
            headsDetermined = true;
        }
        else
        {
            var named = ModelZoo.Crate.Values.FirstOrDefault(cfg => cfg.Dim == dim && cfg.Depth == depth && cfg.Heads * cfg.HeadDim == inner);
            // Else the widest head width of 64, 32, 16, … that divides K·p; K = 1 only if there is no output map.
            int width = new[] { 64, 32, 16, 8, 4, 2, 1 }.First(w => inner % w == 0 && (inner / w > 1 || !hasOut || w == 1));
            k = named?.Heads ?? inner / width;
            notes.Add(named is not null
                ? $"Heads are not fixed by the weights; took {k} from the named config with d={dim}, depth={depth}."
                : $"Heads are not fixed by the weights; assumed head width {width}, i.e. {k} heads.");
        }
        if (inner % k != 0)
            throw new CrateShapeException($"Projection width {inner} is not divisible by {k} heads.");
        notes.Add("Pooling, eta and lambda are not stored in a state_dict; reference defaults (cls, 0.1, 0.1) assumed.");

        var config = new CrateConfig(dim, depth, k, image, patch, c, classes);
        if (!(inner / k == dim / k && dim % k == 0)) config = config with { HeadDim = inner / k };
        return new InferredCrateShape(config, headsDetermined, channelsDetermined, notes);
    }

    private static bool IsSquare(int x)
    {
        if (x <= 0)
            return false;
        int r = (int)Math.Round(Math.Sqrt(x));
        return r * r == x;
    }

    [GeneratedRegex(@"^transformer\.layers\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
