using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

[assembly: CratePlugin(PluginContract.Version)]

namespace Crate.Plugins.Vit;

/// <summary>
/// Supervised image classification, CRATE against ViT (docs/paper.md §3a), with the layer-wise white-box
/// measurements of the trained CRATE (§4) and its last-layer [CLS] attention maps (§3b). Both models
/// train under one recipe with the shared trainer; presets differ only in architecture keys per model.
/// </summary>
public sealed partial class VitTask : IImageTask, ICheckpointEvaluator, IHeadlineMetric, INamedConfigBuilder
{
    /// <inheritdoc />
    public string Name => "vit";

    /// <inheritdoc />
    public string Title => "Image classification: CRATE against ViT (paper §3a), white-box layers and [CLS] attention (§3b, §4)";

    /// <inheritdoc />
    public IReadOnlyList<ModelInfo> Models { get; } =
    [
        new(VisionShape.Crate, ModelRole.Crate, "CRATE classifier (model/crate.py): patch LN-Linear-LN stem, [CLS], MSSA + ISTA layers, LN-Linear head"),
        new(VisionShape.Vit, ModelRole.Baseline, "ViT (timm, as model/vit.py): conv stem, [CLS], attention + MLP blocks, mean pool of patch tokens, fc_norm, head"),
    ];

    /// <inheritdoc />
    public ConfigSchema Schema { get; } = new(VitKeys.All);

    /// <inheritdoc />
    public IReadOnlyList<Preset> Presets => VitPresets.All;

    /// <inheritdoc />
    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("top1", "test top-1 accuracy", true, "%"),
        new("top5", "test top-5 accuracy (more than 5 classes)", true, "%"),
        new("loss", "test cross-entropy", false, "nats"),
        new("knn20_top1", "test top-1 of DINO's 20-NN (T = 0.07) on the frozen features the head reads ([CLS] for CRATE), training images as memory", true, "%"),
        new("knn1_top1", "test top-1 of the nearest neighbour on the same features", true, "%"),
        new("raw_knn20_top1", "the same 20-NN on raw pixels: what the representation adds over none", true, "%"),
        new("train_loss", "training loss over the last epoch (with label smoothing if set)", false, "nats"),
        new("parameters", "trainable parameters", false),
        new("train_seconds", "training wall time including the per-epoch evaluations", false, "s"),
        new("samples_per_s", "training throughput (images per second over the last steps)", true, "img/s"),
    ];

    /// <inheritdoc />
    public IReadOnlyList<PaperReference> PaperValues => VitPaperValues.References;

    /// <inheritdoc />
    public IReadOnlyList<NamedModelConfig> NamedConfigs => VitModels.NamedConfigs(Schema);

    /// <summary>Top-1 accuracy; chance is a uniform guess over <c>model.num_classes</c>.</summary>
    public HeadlineMetric Headline(ResolvedConfig config)
    {
        int classes = config.GetInt(ImageKeys.NumClasses);
        return new HeadlineMetric("top1", 100.0 / classes, $"100 % / {classes} classes");
    }

    /// <summary>The paper's sizes from <see cref="ModelZoo"/>, the presets' shapes from their configs.</summary>
    public nn.Module? BuildNamed(NamedModelConfig named) => VitModels.BuildNamed(named, Schema);

    /// <inheritdoc />
    public RunResult Run(IRunContext ctx)
    {
        var config = ctx.Config;
        var shape = VisionShape.From(config, ctx.Model);
        string dataDir = ctx.DataDirectory(config.Get(ImageKeys.Dataset));
        var data = ImageTaskData.Load(config, dataDir, shape.Channels, shape.ImageSize, shape.NumClasses);
        var seeds = TrainingSeeds.From(ctx.Seed);
        var options = TrainerOptions.FromConfig(config);
        var device = Devices.Resolve(ctx.Device);
        int workers = config.GetInt(ImageKeys.Workers);
        bool prefetch = config.Get(ImageKeys.Prefetch);

        torch.manual_seed(seeds.Init);
        using var model = shape.Build(ctx.Model, config);
        long parameters = ModuleParameters.Count(model);
        ctx.Logger.LogInformation("{Model}: {Shape}, {Parameters:N0} parameters; {Train} training and {Test} test images of {Dataset} from {Dir}",
            ctx.Model, shape, parameters, data.Train.Count, data.Test.Count, data.Name, dataDir);

        using var batches = new ImageBatchSource(new ImageBatchLoader(data.Train, data.TrainPipeline, new ImageLoaderOptions
        {
            BatchSize = options.EffectiveMicroBatch, Shuffle = true, DropLast = true, Seed = (ulong)seeds.DataOrder, Workers = workers,
        }), prefetch);
        var test = new VitEvaluation(data.Test, data.TestPipeline, config.GetInt(VitKeys.EvalBatch), workers, prefetch);
        double smoothing = config.Get(VitKeys.LabelSmoothing);
        var spec = ClassificationSpec(model, batches, smoothing, e => test.Evaluate(model, e.Device, e.Cancellation));
        var result = new Trainer<ViewBatch>(spec, options, ctx).Run();

        var final = result.FinalMetrics;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["parameters"] = parameters,
            ["train_seconds"] = result.TrainSeconds,
        };
        foreach (var name in new[] { "top1", "top5", "loss", "train_loss", "samples_per_s" })
            if (final.TryGetValue(name, out var value)) metrics[name] = value;
        foreach (var (name, value) in RepresentationMetrics.Knn(model, data, device))
            if (name is "knn20_top1" or "knn1_top1" or "raw_knn20_top1") metrics[name] = value;
        ctx.Logger.LogInformation("k-NN on frozen features: 20-NN {Knn20:F2} %, 1-NN {Knn1:F2} %; on raw pixels 20-NN {Raw:F2} %",
            metrics["knn20_top1"], metrics["knn1_top1"], metrics["raw_knn20_top1"]);

        IReadOnlyList<WhiteBoxRow> whiteBox = [];
        IReadOnlyList<Artifact> artifacts = [];
        if (model is CrateClassifier crate)
        {
            whiteBox = VitEvaluation.MeasureWhiteBox(crate, data, config.GetInt(VitKeys.WhiteBoxSamples), device, seeds, shape, config);
            if (whiteBox.Count > 0) ctx.ReportWhiteBox(whiteBox);
            foreach (var split in whiteBox.GroupBy(r => r.Split))
                ctx.Logger.LogInformation("white-box {Split} ({Samples} images), per layer R^c / non-zero fraction: {Layers}", split.Key,
                    split.First().Samples, string.Join("  ", split.GroupBy(r => r.Layer).Select(l =>
                        FormattableString.Invariant($"{l.Key}: {l.Single(r => r.Measure == WhiteBoxMeasures.Rc).Mean:F1} / {l.Single(r => r.Measure == WhiteBoxMeasures.Nonzero).Mean:F3}"))));
            artifacts = AttentionMaps.Save(crate, data.Test, data.TestPipeline, config.GetInt(VitKeys.AttentionImages), device, ctx.RunDirectory);
        }
        return new RunResult(metrics, whiteBox, artifacts);
    }

    /// <summary>The spec <see cref="Run"/> trains: cross-entropy with label smoothing <paramref name="smoothing"/> of the model's logits on the first view.</summary>
    public static TrainingSpec<ViewBatch> ClassificationSpec(nn.Module<Tensor, Tensor> model, IBatchSource<ViewBatch> batches, double smoothing,
        Func<EvalContext, IReadOnlyDictionary<string, double>>? evaluate) =>
        TrainingSpec.ForModel(model, batches, loss: (b, _) => Losses.CrossEntropy(model.forward(b.Images), b.Labels, smoothing), evaluate: evaluate);

    /// <inheritdoc />
    public EvaluationResult Evaluate(CheckpointRequest request) => VitCheckpoints.Evaluate(request);
}
