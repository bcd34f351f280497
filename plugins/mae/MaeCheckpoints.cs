using System.Globalization;
using Crate.Core.Contract;
using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Core.Training;

namespace Crate.Plugins.Mae;

/// <summary>
/// The weights <c>evaluate mae</c> reads and the shape they fix. A run's checkpoint folder (its pre-training
/// phase: <c>checkpoints/pretrain/</c>, the newest <c>step-*</c>), one checkpoint folder, a <c>module-0.bin</c>, or a
/// PyTorch state_dict (<c>.pth</c>/<c>.pt</c>/<c>.bin</c> or <c>.safetensors</c>) with the reference names of
/// crate_ae.py / models_mae.py. The tensors fix image and patch size, channels, widths, depths and (MAE) the MLP
/// ratio; the numbers of heads are not stored: they come from the config when they divide the widths (keys set
/// with --set or the preset), else from a named configuration with the same widths and depths, else a head width of 64.
/// </summary>
public sealed record MaeCheckpoint(string WeightsPath, bool IsTrainerState, MaeConfig Shape, IReadOnlyList<string> Notes)
{
    /// <summary>A description of the file kind for the notes.</summary>
    public string Kind => IsTrainerState ? "trainer checkpoint (ModuleState)" : $"PyTorch state_dict ({StateDictFile.FormatOf(WeightsPath)})";

    /// <summary>Loads the weights into <paramref name="module"/> (names and shapes must match exactly).</summary>
    public void LoadInto(TorchSharp.torch.nn.Module module)
    {
        if (IsTrainerState) ModuleState.Load(module, WeightsPath);
        else Checkpoint.Load(module, WeightsPath);
    }

    /// <summary>Finds the weights behind <paramref name="path"/> and resolves the shape of <paramref name="model"/>.</summary>
    public static MaeCheckpoint Open(string path, string model, ResolvedConfig config)
    {
        var (weights, trainer) = Locate(path);
        var shapes = trainer ? ReadModuleState(weights) : StateDictFile.ReadShapes(weights);
        bool crate = model == MaeModels.Crate;
        long[] Need(string name) => shapes.TryGetValue(name, out var s) ? s
            : throw new CheckpointFormatException(weights, $"has no tensor '{name}', so it is not a {model} state_dict " +
                                                           $"({(crate ? "model/crate_ae/crate_ae.py" : "facebookresearch/mae models_mae.py")} names)");
        string blockProbe = crate ? "blocks.0.layers.0.1.fn.weight" : "blocks.0.mlp.fc1.weight";
        Need(blockProbe);
        Need("decoder_pred.weight");
        var stem = Need("patch_embed.proj.weight");                          // [d, C, P, P]
        int dim = (int)stem[0], channels = (int)stem[1], patch = (int)stem[2];
        int tokens = (int)Need("pos_embed")[1];
        int grid = (int)Math.Round(Math.Sqrt(tokens - 1));
        int decDim = (int)Need("mask_token")[2];
        int depth = Count(shapes, "blocks."), decDepth = Count(shapes, "decoder_blocks.");
        double mlpRatio = crate ? config.Get(MaeKeys.MlpRatio) : shapes["blocks.0.mlp.fc1.weight"][0] / (double)dim;
        var notes = new List<string>
        {
            FormattableString.Invariant($"From the tensors: image {grid * patch}px, patch {patch}, {channels} channel(s), dim {dim}, depth {depth}, decoder dim {decDim}, decoder depth {decDepth}") +
            (crate ? "" : FormattableString.Invariant($", mlp_ratio {mlpRatio}")) + ".",
        };
        int heads = crate && !shapes.ContainsKey("blocks.0.layers.0.0.fn.to_out.0.weight") ? OneHead(MaeKeys.Heads, notes)
            : Heads(config, MaeKeys.Heads, dim, depth, decDim, decDepth, decoder: false, notes);
        int decHeads;
        if (crate && !shapes.ContainsKey("decoder_blocks.0.layers.0.1.fn.to_out.0.weight")) decHeads = OneHead(MaeKeys.DecoderHeads, notes);
        else if (crate && config.GetInt(MaeKeys.DecoderHeads) == 0 && decDim == dim)
        {
            decHeads = heads;
            notes.Add($"{MaeKeys.DecoderHeads.Name}={heads}: the encoder's, as every CRATE-MAE factory of the reference.");
        }
        else decHeads = Heads(config, MaeKeys.DecoderHeads, dim, depth, decDim, decDepth, decoder: true, notes);
        var shape = new MaeConfig(crate ? MaeKind.Crate : MaeKind.Vit, dim, depth, heads, decDim, decDepth, decHeads, grid * patch, patch, channels,
            mlpRatio, config.Get(MaeKeys.Eta), config.Get(MaeKeys.Lambda), config.Get(MaeKeys.NormPixLoss));
        try { shape.Validate(); }
        catch (ArgumentException e) { throw new CheckpointFormatException(weights, $"the shape it implies is not a {model}: {e.Message}"); }
        return new MaeCheckpoint(weights, trainer, shape, notes);
    }

    private static (string Path, bool Trainer) Locate(string path)
    {
        if (Directory.Exists(path))
        {
            string pretrain = Path.Combine(path, "pretrain");
            string folder = Directory.Exists(pretrain) ? pretrain : path;
            string module = Path.Combine(folder, CheckpointStore.ModuleFile(0));
            if (!File.Exists(module))
            {
                try { module = Path.Combine(CheckpointStore.Resolve(folder), CheckpointStore.ModuleFile(0)); }
                catch (TrainerConfigException) { }
            }
            if (!File.Exists(module))
                throw new CheckpointFormatException(path, $"checkpoint folder without {CheckpointStore.ModuleFile(0)} (nor a pretrain/ phase folder holding one)");
            return (module, true);
        }
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "file not found.");
        return (path, IsModuleState(path));
    }

    private static int Count(IReadOnlyDictionary<string, long[]> shapes, string prefix) =>
        shapes.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => int.Parse(k.AsSpan(prefix.Length, k.IndexOf('.', prefix.Length) - prefix.Length), CultureInfo.InvariantCulture))
            .DefaultIfEmpty(-1).Max() + 1;

    private static int Heads(ResolvedConfig config, ConfigKey<long> key, int dim, int depth, int decDim, int decDepth, bool decoder, List<string> notes)
    {
        int width = decoder ? decDim : dim;
        int configured = config.GetInt(key);
        if (configured > 0 && width % configured == 0)
        {
            notes.Add($"{key.Name}={configured} from the config.");
            return configured;
        }
        var named = MaeModels.NamedConfigs.FirstOrDefault(n => n.Dim == dim && n.Depth == depth && n.DecoderDim == decDim && n.DecoderDepth == decDepth);
        if (named is not null)
        {
            int h = decoder ? named.DecoderHeads : named.Heads;
            notes.Add($"{key.Name}={h} from the named configuration {named.Name} (same widths and depths); heads are not stored in the weights.");
            return h;
        }
        int fallback = Math.Max(1, width / 64);
        notes.Add($"{key.Name}={fallback}: head width 64 assumed (heads are not stored in the weights; set --set {key.Name}=K).");
        return fallback;
    }

    // The reference drops the MSSA output map only for one head of the full width (project_out = False).
    private static int OneHead(ConfigKey<long> key, List<string> notes)
    {
        notes.Add($"{key.Name}=1: the MSSA has no output map (to_out), which the reference drops only for a single head.");
        return 1;
    }

    private static Dictionary<string, long[]> ReadModuleState(string path)
    {
        try { return ModuleState.ReadShapes(path); }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            throw new CheckpointFormatException(path, $"cannot read the trainer checkpoint ({e.Message})", e);
        }
    }

    private static bool IsModuleState(string path)
    {
        const string magic = "crate-module-state";
        Span<byte> head = stackalloc byte[1 + magic.Length];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head[0] == magic.Length
               && System.Text.Encoding.ASCII.GetString(head[1..]) == magic;
    }
}
