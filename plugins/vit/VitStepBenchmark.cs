using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Vit;

/// <summary>
/// The vit task's training step for the benchmark: the classifier of <c>model</c> at the config, the run's
/// <see cref="ClassificationSpec"/> over standard-normal images and uniform labels of the config's shape, and the
/// run's trainer options.
/// </summary>
public sealed partial class VitTask : IStepBenchmark
{
    /// <inheritdoc />
    public StepBenchmark CreateStepBenchmark(string model, ResolvedConfig config)
    {
        var shape = VisionShape.From(config, model);
        var options = TrainerOptions.FromConfig(config);
        options.Validate();
        int micro = options.EffectiveMicroBatch;
        torch.manual_seed(TrainingSeeds.From(0).Init);
        var network = shape.Build(model, config);
        var batches = new SyntheticBatches<ViewBatch>(micro, (g, device) => new ViewBatch(
            [randn([micro, shape.Channels, shape.ImageSize, shape.ImageSize], generator: g).to(device)],      // [B, C, H, W]
            randint(0, shape.NumClasses, [micro], generator: g).to(device)));                                // [B]
        var spec = ClassificationSpec(network, batches, config.Get(VitKeys.LabelSmoothing), evaluate: null);
        long patches = (long)shape.Grid * shape.Grid, tokens = patches + 1, patchValues = (long)shape.Channels * shape.PatchSize * shape.PatchSize;
        var gemms = new List<GemmShape> { new("patch_embed", micro * patches, patchValues, shape.Dim) };
        gemms.AddRange(model == VisionShape.Crate
            ? BlockGemms.CrateLayers("", shape.Depth, micro, tokens, shape.Dim, shape.Heads, shape.HeadDim, fast: true)
            : BlockGemms.TransformerBlocks("", shape.Depth, micro, tokens, shape.Dim, shape.Heads, (long)(shape.Dim * shape.MlpRatio)));
        gemms.Add(new("head", micro, shape.Dim, shape.NumClasses));
        return StepBenchmark.Create($"{(model == VisionShape.Crate ? "CRATE" : "ViT")} {shape}", spec, options, gemms, [network, batches]);
    }
}
