using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Evaluation;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

[assembly: CratePlugin(PluginContract.Version)]

namespace Crate.Plugins.Dino;

/// <summary>
/// Self-distillation without labels (DINO), CRATE against ViT as the backbone (docs/paper.md §3d: no CRATE-DINO
/// recipe or number is published, so the recipe is DINO's own, main_dino.py). Student and EMA teacher share the
/// architecture (backbone + DINO head); the teacher sees the 2 global crops, the student every crop. Judged by DINO's
/// 20-NN and a linear probe on the teacher backbone's [CLS] features, raw pixels beside them, a collapse monitor,
/// the last layer's [CLS] attention (§3b) and, for CRATE, the white-box rows per layer (§4).
/// </summary>
public sealed partial class DinoTask : IImageTask, ICheckpointEvaluator, IHeadlineMetric
{
    /// <summary>
    /// The teacher's 20-NN top-1; chance is a uniform guess over the dataset's classes (10 for the IDX and CIFAR-10
    /// sets, 100 for CIFAR-100; an ImageFolder set is taken as ImageNet-1K's 1,000). A collapsed teacher maps every
    /// image to one prototype and its k-NN falls to about chance. The training loss need not fall in a short run:
    /// it is a cross-entropy against a teacher that moves and sharpens (plugins/dino/README.md).
    /// </summary>
    public HeadlineMetric Headline(ResolvedConfig config)
    {
        string dataset = config.Get(ImageKeys.Dataset);
        int classes = dataset switch { "cifar100" => 100, "imagefolder" => 1000, _ => 10 };
        return new HeadlineMetric("knn20_top1", 100.0 / classes, $"100 / {classes} classes of {dataset}", TrainLossFalls: false);
    }

    /// <inheritdoc />
    public string Name => "dino";

    /// <inheritdoc />
    public string Title => "Self-distillation (DINO): CRATE-DINO against DINO-ViT, k-NN and linear probes, [CLS] attention (paper §3d, §3b)";

    /// <inheritdoc />
    public IReadOnlyList<ModelInfo> Models { get; } =
    [
        new(DinoShape.Crate, ModelRole.Crate, "CRATE-DINO: the CRATE classifier's encoder (patch LN-Linear-LN stem, [CLS], MSSA + ISTA layers, LN) + DINO head; EMA teacher"),
        new(DinoShape.Vit, ModelRole.Baseline, "DINO-ViT: DINO's ViT backbone (conv stem, [CLS], attention + MLP blocks, final LN) + DINO head; EMA teacher"),
    ];

    /// <inheritdoc />
    public ConfigSchema Schema { get; } = new(DinoKeys.All);

    /// <inheritdoc />
    public IReadOnlyList<Preset> Presets => DinoPresets.All;

    /// <summary>
    /// The crops play the image size's part in the fit to the data (<see cref="ImageDataFit"/>): for a fixed-size
    /// dataset (28 px, CIFAR's 32 px) <c>data.global_size</c> takes the dataset's side, <c>model.patch_size</c> then
    /// follows when it no longer divides it (keeping the grid of patches when it can), and <c>data.local_size</c>
    /// becomes half the side rounded down to a multiple of the patch; channels follow the colour. Keys set with
    /// <c>--set</c> are kept; channels 1 on RGB data is an error. The task has no class count: the probes read the
    /// dataset's.
    /// </summary>
    public ImageSizeKeys FittedSizes { get; } = new(DinoKeys.GlobalSize, HalfSize: DinoKeys.LocalSize);

    /// <inheritdoc />
    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        .. ProbeMetrics.Declare("the teacher backbone's [CLS] features (test transform)", "raw pixels"),
        new("collapsed", "1 when the last epoch's teacher outputs collapsed (uniform, or one prototype for every image), else 0; a collapsed run's probes are no result", false),
        new("train_teacher_entropy", "mean entropy of the teacher's distributions over the last epoch", false, "nats"),
        new("train_marginal_entropy", "entropy of the batch-mean teacher distribution over the last epoch", true, "nats"),
        new("train_kl", "mean KL(teacher || student) over the last epoch", false, "nats"),
        new("train_loss", "DINO loss over the last epoch", false, "nats"),
        new("parameters", "trainable parameters of the student (backbone + head)", false),
        new("backbone_parameters", "parameters of the backbone alone", false),
        new("train_seconds", "training wall time including the per-epoch evaluations", false, "s"),
        new("samples_per_s", "training throughput (images, every crop of each, per second over the last steps)", true, "img/s"),
    ];

    /// <inheritdoc />
    public IReadOnlyList<PaperReference> PaperValues => DinoPaperValues.References;

    /// <inheritdoc />
    public IReadOnlyList<NamedModelConfig> NamedConfigs
    {
        get
        {
            var list = new List<NamedModelConfig>();
            foreach (var preset in DinoPresets.All.Where(p => p.Name is "smoke" or "small"))
                foreach (var model in Models)
                {
                    var shape = DinoShape.From(Schema.Resolve(preset.ValuesFor(model.Name)), model.Name);
                    using var network = shape.Build(model.Name);
                    list.Add(new NamedModelConfig($"{preset.Name}-{model.Name}", model.Name, network.TrainableParameters,
                        $"the {preset.Name} preset: {shape}"));
                }
            return list;
        }
    }

    /// <inheritdoc />
    public RunResult Run(IRunContext ctx)
    {
        var config = ctx.Config;
        var shape = DinoShape.From(config, ctx.Model);
        var recipe = DinoRecipe.From(config);
        var options = DinoRecipe.Options(config);
        string dataDir = ctx.DataDirectory(config.Get(ImageKeys.Dataset));
        var data = DinoData.Load(config, dataDir, shape.Channels);
        var seeds = TrainingSeeds.From(ctx.Seed);
        var device = Devices.Resolve(ctx.Device);
        bool prefetch = config.Get(ImageKeys.Prefetch);
        int evalBatch = config.GetInt(DinoKeys.EvalBatch);

        using var student = Initial(shape, seeds, ctx.Model);
        using var teacher = shape.Build(ctx.Model);                                            // overwritten with the student's weights
        using var loss = new DinoLoss(shape.OutDim, recipe.StudentTemp, recipe.CenterMomentum);
        var distillation = new DinoDistillation(student, teacher, loss, recipe);
        distillation.InitializeTeacher();
        long parameters = student.TrainableParameters;
        long backboneParameters = student.Backbone.Module.parameters().Sum(p => p.numel());
        ctx.Logger.LogInformation("{Model}: {Shape}; {Parameters:N0} trainable parameters ({Backbone:N0} in the backbone); {Train} training and {Test} test " +
                                  "images of {Dataset}, {Views} crops each; lr {Lr:G4} (base {Base:G4} x {Batch}/256)",
            ctx.Model, shape, parameters, backboneParameters, data.Train.Count, data.Test.Count, data.Name, data.Views.Count, options.LearningRate,
            config.Get(DinoKeys.BaseLr), options.BatchSize);

        using var batches = new ImageBatchSource(new ImageBatchLoader(data.Train, data.Views, new ImageLoaderOptions
        {
            BatchSize = options.EffectiveMicroBatch, Shuffle = true, DropLast = true, Seed = (ulong)seeds.DataOrder,
            Workers = config.GetInt(ImageKeys.Workers),
        }), prefetch);
        Func<EvalContext, IReadOnlyDictionary<string, double>>? monitor = config.Get(DinoKeys.KnnEveryEpoch)
            ? e => DinoEvaluation.Monitor(teacher.Backbone, data, evalBatch, e.Device, prefetch, e.Cancellation)
            : null;
        var result = new Trainer<ViewBatch>(distillation.Spec(batches, monitor), options, ctx).Run();

        var final = result.FinalMetrics;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["parameters"] = parameters,
            ["backbone_parameters"] = backboneParameters,
            ["train_seconds"] = result.TrainSeconds,
        };
        foreach (var name in new[] { "train_loss", "train_teacher_entropy", "train_marginal_entropy", "train_kl", "samples_per_s" })
            if (final.TryGetValue(name, out var value)) metrics[name] = value;
        string? collapse = DinoCollapse.Check(metrics.GetValueOrDefault("train_teacher_entropy", double.NaN),
            metrics.GetValueOrDefault("train_marginal_entropy", double.NaN), shape.OutDim);
        metrics["collapsed"] = collapse is null ? 0 : 1;
        if (collapse is not null)
            ctx.Logger.LogWarning("{Model} COLLAPSED ({Reason}); its probe numbers are not a result of self-distillation", ctx.Model, collapse);

        var suite = DinoEvaluation.Suite(data, ProbeKeys.LowLabelCounts(config), SeedMath.Derive(ctx.Seed, "low-label"), config.Get(DinoKeys.Linear),
            config.GetInt(DinoKeys.ProbeMaxIterations));
        Add(ProbeMetrics.Select(DinoEvaluation.Probes(teacher.Backbone, data, suite, evalBatch, device, prefetch, cancellation: ctx.Cancellation)));
        Add(ProbeMetrics.Select(DinoEvaluation.RawProbes(data, suite, evalBatch, prefetch, ProbeCache.At(ctx.CacheDirectory)), ProbeMetrics.RawPrefix));
        if (config.Get(ProbeKeys.Controls))
        {
            using var initial = Initial(shape, seeds, ctx.Model);                            // the network the teacher started as
            initial.to(device);
            Add(ProbeMetrics.Select(DinoEvaluation.Probes(initial.Backbone, data, suite, evalBatch, device, prefetch, ProbeMetrics.InitPrefix, ctx.Cancellation),
                ProbeMetrics.InitPrefix));
        }
        ctx.Logger.LogInformation("{Model} teacher: {Probes}", ctx.Model,
            string.Join(", ", metrics.Where(m => m.Key.Contains("_top1", StringComparison.Ordinal)).Select(m => FormattableString.Invariant($"{m.Key} {m.Value:F2}"))));

        var whiteBox = new List<WhiteBoxRow>();
        if (teacher.Backbone is CrateBackbone crateTeacher)
        {
            int samples = config.GetInt(DinoKeys.WhiteBoxSamples);
            whiteBox.AddRange(DinoEvaluation.WhiteBox(crateTeacher, data, samples, device, "test"));
            if (samples > 0)
            {
                using var initial = Initial(shape, seeds, ctx.Model);                          // the teacher's starting point
                initial.to(device);
                whiteBox.AddRange(DinoEvaluation.WhiteBox((CrateBackbone)initial.Backbone, data, samples, device, "test@init"));
            }
            if (whiteBox.Count > 0) ctx.ReportWhiteBox(whiteBox);
        }
        var artifacts = DinoEvaluation.AttentionMaps(teacher.Backbone, ctx.Model, data, config.GetInt(DinoKeys.AttentionImages), device, ctx.RunDirectory);
        return new RunResult(metrics, whiteBox, artifacts);

        void Add(IEnumerable<KeyValuePair<string, double>> values)
        {
            foreach (var (k, v) in values) metrics[k] = v;
        }
    }

    /// <summary>
    /// The student as every run of seed <paramref name="seeds"/> builds it first (global generator seeded with
    /// <see cref="TrainingSeeds.Init"/>): the weights the teacher starts from, and what the initialisation control probes.
    /// </summary>
    public static DinoNetwork Initial(DinoShape shape, TrainingSeeds seeds, string model)
    {
        torch.manual_seed(seeds.Init);
        return shape.Build(model);
    }

    /// <inheritdoc />
    public EvaluationResult Evaluate(CheckpointRequest request)
    {
        var config = request.Config;
        using var loaded = DinoCheckpoints.Load(request);
        string dataDir = request.DataDirectory(config.Get(ImageKeys.Dataset));
        var data = DinoData.Load(config, dataDir, loaded.Shape.Channels);
        var device = Devices.Resolve(request.Device);
        loaded.Owner.to(device);
        var suite = DinoEvaluation.Suite(data, ProbeKeys.LowLabelCounts(config), SeedMath.Derive(0, "low-label"), config.Get(DinoKeys.Linear),
            config.GetInt(DinoKeys.ProbeMaxIterations));
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, v) in ProbeMetrics.Select(DinoEvaluation.Probes(loaded.Backbone, data, suite, config.GetInt(DinoKeys.EvalBatch), device,
                     config.Get(ImageKeys.Prefetch), cancellation: request.Cancellation))) metrics[k] = v;
        foreach (var (k, v) in ProbeMetrics.Select(DinoEvaluation.RawProbes(data, suite, config.GetInt(DinoKeys.EvalBatch), config.Get(ImageKeys.Prefetch), null),
                     ProbeMetrics.RawPrefix)) metrics[k] = v;
        var notes = new List<string>(loaded.Notes)
        {
            $"Probes on {data.Name}: fitted on all {data.Train.Count} training images, scored on {data.Test.Count} test images from {dataDir}; low-label probes (l<k>_*) on k images per class drawn with seed 0; accuracies in %; raw_* are the pixels.",
        };
        return new EvaluationResult(metrics, notes);
    }
}
