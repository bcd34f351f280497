using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Mae;

/// <summary>
/// The two models of the task, their named configurations (docs/paper.md §3c) and how a config becomes a
/// <see cref="MaeConfig"/>: named sizes, CRATE-MAE's decoder defaults (the encoder's width, depth and heads, as
/// every factory of the reference), and the checks the reference would make, as <see cref="ConfigException"/>s
/// naming the key.
/// </summary>
public static class MaeModels
{
    /// <summary>Model name of CRATE-MAE.</summary>
    public const string Crate = "crate-mae";

    /// <summary>Model name of the MAE (ViT) baseline.</summary>
    public const string Mae = "mae";

    /// <summary>A named configuration: size letter, paper name, shape, and the paper's parameter count (0: none reported).</summary>
    public sealed record Named(string Size, string Name, string Model, int Dim, int Depth, int Heads, int DecoderDim, int DecoderDepth,
        int DecoderHeads, double PaperParameters, string Source);

    private const string CrateSource = "model/crate_ae/crate_ae.py factories mae_crate_*";

    /// <summary>
    /// CRATE-MAE-T/S/B/L as the reference's factories (decoder = encoder shape); ViT-MAE-S/B as the paper's
    /// baselines, shapes inferred from the reported counts (§3c, UNCERTAIN): ViT-S encoder with MAE's 512-wide 8-layer
    /// decoder, ViT-B encoder with the 768-wide 8-layer decoder of crate_ae.py's mae_vit_base.
    /// </summary>
    public static IReadOnlyList<Named> NamedConfigs { get; } =
    [
        new("T", "CRATE-MAE-T", Crate, 384, 12, 6, 384, 12, 6, 0, CrateSource),
        new("S", "CRATE-MAE-S", Crate, 576, 12, 12, 576, 12, 12, 25.4e6, CrateSource),
        new("B", "CRATE-MAE-B", Crate, 768, 12, 12, 768, 12, 12, 44.6e6, CrateSource),
        new("L", "CRATE-MAE-L", Crate, 1024, 24, 16, 1024, 24, 16, 0, CrateSource),
        new("S", "ViT-MAE-S", Mae, 384, 12, 6, 512, 8, 16, 47.6e6, "ViT-S encoder + MAE's 512-wide 8-layer decoder (inferred from 47.6M)"),
        new("B", "ViT-MAE-B", Mae, 768, 12, 12, 768, 8, 16, 143.8e6, "crate_ae.py mae_vit_base (inferred from 143.8M)"),
    ];

    /// <summary>The named size <paramref name="size"/> of <paramref name="model"/>, or a ConfigException naming model.size.</summary>
    public static Named NamedFor(string model, string size) =>
        NamedConfigs.FirstOrDefault(n => n.Model == model && n.Size == size)
        ?? throw new ConfigException($"config key 'model.size': {size} is not a named size of {model} " +
                                     $"({string.Join(", ", NamedConfigs.Where(n => n.Model == model).Select(n => n.Name))}); " +
                                     "use model.size=custom and give model.dim, model.depth, model.heads and the decoder keys");

    /// <summary>
    /// Reads the shape of <paramref name="model"/> from <paramref name="config"/> and checks it. With a named
    /// <c>model.size</c> every shape key that is not 0 must agree with it.
    /// </summary>
    public static MaeConfig From(ResolvedConfig config, string model)
    {
        if (model is not (Crate or Mae)) throw new ConfigException($"unknown model '{model}' (mae task models: {Crate}, {Mae})");
        bool crate = model == Crate;
        int dim = config.GetInt(MaeKeys.Dim), depth = config.GetInt(MaeKeys.Depth), heads = config.GetInt(MaeKeys.Heads);
        int decDim = config.GetInt(MaeKeys.DecoderDim), decDepth = config.GetInt(MaeKeys.DecoderDepth), decHeads = config.GetInt(MaeKeys.DecoderHeads);
        string size = config.Get(MaeKeys.Size);
        if (size != "custom")
        {
            var named = NamedFor(model, size);
            dim = Agree(MaeKeys.Dim, dim, named.Dim, named.Name);
            depth = Agree(MaeKeys.Depth, depth, named.Depth, named.Name);
            heads = Agree(MaeKeys.Heads, heads, named.Heads, named.Name);
            decDim = Agree(MaeKeys.DecoderDim, decDim, named.DecoderDim, named.Name);
            decDepth = Agree(MaeKeys.DecoderDepth, decDepth, named.DecoderDepth, named.Name);
            decHeads = Agree(MaeKeys.DecoderHeads, decHeads, named.DecoderHeads, named.Name);
        }
        foreach (var (key, value) in new[] { (MaeKeys.Dim, dim), (MaeKeys.Depth, depth), (MaeKeys.Heads, heads) })
            if (value <= 0) throw new ConfigException($"config key '{key.Name}' is 0: give it, or a named model.size");
        if (crate)
        {
            if (decDim == 0) decDim = dim;
            if (decDepth == 0) decDepth = depth;
            if (decHeads == 0) decHeads = heads;
        }
        foreach (var (key, value) in new[] { (MaeKeys.DecoderDim, decDim), (MaeKeys.DecoderDepth, decDepth), (MaeKeys.DecoderHeads, decHeads) })
            if (value <= 0) throw new ConfigException($"config key '{key.Name}' is 0: the MAE baseline needs its decoder shape, or a named model.size");

        var result = new MaeConfig(crate ? MaeKind.Crate : MaeKind.Vit, dim, depth, heads, decDim, decDepth, decHeads,
            config.GetInt(ImageKeys.ImageSize), config.GetInt(MaeKeys.PatchSize), config.GetInt(ImageKeys.Channels),
            config.Get(MaeKeys.MlpRatio), config.Get(MaeKeys.Eta), config.Get(MaeKeys.Lambda), config.Get(MaeKeys.NormPixLoss));
        try
        {
            result.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"config key '{KeyOf(e.ParamName)}': {e.Message.Split(" (Parameter")[0]}");
        }
        KeepCount(config, result.NumPatches);
        return result;
    }

    /// <summary>Patches kept per image: ⌊N·(1 − model.mask_ratio)⌋, which must be at least 1 and below N.</summary>
    public static int KeepCount(ResolvedConfig config, int patches)
    {
        double ratio = config.Get(MaeKeys.MaskRatio);
        int keep = MaeMask.KeepFor(patches, ratio);
        if (keep < 1)
            throw new ConfigException(FormattableString.Invariant(
                $"config key 'model.mask_ratio': {ratio} leaves no visible patch of {patches} (floor({patches}·(1 − {ratio})) = {keep}); use a smaller ratio"));
        if (keep >= patches)
            throw new ConfigException(FormattableString.Invariant(
                $"config key 'model.mask_ratio': {ratio} masks none of the {patches} patches (floor({patches}·(1 − {ratio})) = {keep}); use a larger ratio"));
        return keep;
    }

    private static string KeyOf(string? parameter) => parameter switch
    {
        nameof(MaeConfig.Dim) => MaeKeys.Dim.Name,
        nameof(MaeConfig.Depth) => MaeKeys.Depth.Name,
        nameof(MaeConfig.Heads) => MaeKeys.Heads.Name,
        nameof(MaeConfig.DecoderDim) => MaeKeys.DecoderDim.Name,
        nameof(MaeConfig.DecoderDepth) => MaeKeys.DecoderDepth.Name,
        nameof(MaeConfig.DecoderHeads) => MaeKeys.DecoderHeads.Name,
        nameof(MaeConfig.ImageSize) => ImageKeys.ImageSize.Name,
        nameof(MaeConfig.PatchSize) => MaeKeys.PatchSize.Name,
        nameof(MaeConfig.Channels) => ImageKeys.Channels.Name,
        nameof(MaeConfig.MlpRatio) => MaeKeys.MlpRatio.Name,
        _ => "model",
    };

    private static int Agree(ConfigKey<long> key, int given, int named, string name) =>
        given == 0 || given == named ? named
            : throw new ConfigException($"config key '{key.Name}' is {given} but model.size names {name} with {named}; " +
                                        $"set {key.Name}=0 to take the named size, or model.size=custom to give the shape yourself");

    /// <summary>Builds <paramref name="config"/>'s model on the CPU with the current torch seed.</summary>
    public static nn.Module Build(MaeConfig config) => config.Kind == MaeKind.Crate ? new CrateMae(config) : new MaeVit(config);
}
