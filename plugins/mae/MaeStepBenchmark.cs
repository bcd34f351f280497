using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Mae;

/// <summary>
/// The mae task's pre-training step for the benchmark (the phase that trains the autoencoder; fine-tuning is a
/// classifier step like the vit task's): the autoencoder at the config, the run's <see cref="PretrainSpec"/> over
/// standard-normal images of the config's shape, and the run's pre-training options.
/// </summary>
public sealed partial class MaeTask : IStepBenchmark
{
    /// <inheritdoc />
    public StepBenchmark CreateStepBenchmark(string model, ResolvedConfig config)
    {
        CheckConfig(model, config);
        var shape = MaeModels.From(config, model);
        var options = TrainerOptions.FromConfig(config);
        options.Validate();
        int micro = options.EffectiveMicroBatch, keep = MaeModels.KeepCount(config, shape.NumPatches);
        torch.manual_seed(TrainingSeeds.From(0).Init);
        var module = MaeModels.Build(shape);
        var batches = new SyntheticBatches<ViewBatch>(micro, (g, device) => new ViewBatch(
            [randn([micro, shape.Channels, shape.ImageSize, shape.ImageSize], generator: g).to(device)],   // [B, C, H, W]
            zeros([micro], ScalarType.Int64, device)));                                                   // [B], unread
        var spec = PretrainSpec(module, batches, shape, config.Get(MaeKeys.MaskRatio), evaluate: null);

        long patches = shape.NumPatches, visible = keep + 1, all = patches + 1;
        int d = shape.Dim, dd = shape.DecoderDim;
        bool crate = shape.Kind == MaeKind.Crate;
        var gemms = new List<GemmShape> { new("patch_embed", micro * patches, shape.PatchValues, d) };
        gemms.AddRange(crate
            ? BlockGemms.CrateLayers("encoder.", shape.Depth, micro, visible, d, shape.Heads, d / shape.Heads, fast: true)
            : BlockGemms.TransformerBlocks("encoder.", shape.Depth, micro, visible, d, shape.Heads, (long)(d * shape.MlpRatio)));
        if (!crate) gemms.Add(new("decoder_embed", micro * visible, d, dd));
        // CRATE-MAE's decoder layer: dictionary D̃ (one product) and MSSA, counted as a CRATE layer's one ISTA product.
        gemms.AddRange(crate
            ? BlockGemms.CrateLayers("decoder.", shape.DecoderDepth, micro, all, dd, shape.DecoderHeads, dd / shape.DecoderHeads, fast: true)
            : BlockGemms.TransformerBlocks("decoder.", shape.DecoderDepth, micro, all, dd, shape.DecoderHeads, (long)(dd * shape.MlpRatio)));
        gemms.Add(new("decoder_pred", micro * all, dd, shape.PatchValues));
        return StepBenchmark.Create($"{(crate ? "CRATE-MAE" : "MAE")} {shape}, {keep} of {patches} patches visible", spec, options, gemms, [module, batches]);
    }
}
