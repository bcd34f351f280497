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

namespace Crate.Plugins.Mae;

/// <summary>
/// Masked autoencoding, CRATE-MAE against MAE (docs/paper.md §3c, §5), under one recipe. Phase <c>pretrain</c>
/// trains the autoencoder on masked images (test reconstruction loss under fixed masks at each evaluation); then
/// the frozen encoder's [CLS] on unmasked images is probed (k-NN, linear; raw pixels beside them), CRATE-MAE's
/// encoder and decoder layers are measured (R^c, sparsity), reconstruction figures are saved; phase <c>finetune</c>
/// trains encoder + linear head on whole images with layer-wise learning-rate decay (top-1).
/// </summary>
public sealed partial class MaeTask : IImageTask, ICheckpointEvaluator, IConfigChecker, IHeadlineMetric
{
    /// <summary>
    /// Fine-tuned top-1: whether the pre-trained encoder plus head learned the classes at all; chance is a uniform
    /// guess over <c>model.num_classes</c>. (The probes' accuracies beat chance even on an untrained encoder, and the
    /// reconstruction loss has no task-independent chance level.)
    /// </summary>
    public HeadlineMetric Headline(ResolvedConfig config)
    {
        long classes = config.Get(ImageKeys.NumClasses);
        return new HeadlineMetric("finetune_top1", 100.0 / classes, $"100 / {classes} classes");
    }

    /// <inheritdoc />
    public string Name => "mae";

    /// <inheritdoc />
    public string Title => "Masked autoencoding: CRATE-MAE against MAE (paper §3c, §5): reconstruction, probes, fine-tuning, white-box encoder and decoder";

    /// <inheritdoc />
    public IReadOnlyList<ModelInfo> Models { get; } =
    [
        new(MaeModels.Crate, ModelRole.Crate, "CRATE-MAE (model/crate_ae): conv stem, mask tokens before the encoder, CRATE encoder layers, CRATE-MAE decoder layers (D̃·LN, minus MSSA)"),
        new(MaeModels.Mae, ModelRole.Baseline, "MAE (facebookresearch/mae models_mae.py): ViT encoder on the visible patches, narrower ViT decoder with mask tokens"),
    ];

    /// <inheritdoc />
    public ConfigSchema Schema { get; } = new(MaeKeys.All);

    /// <inheritdoc />
    public IReadOnlyList<Preset> Presets => MaePresets.All;

    /// <inheritdoc />
    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("recon_loss", "test masked-patch reconstruction loss (pixel MSE on normalised pixels, masked patches only, fixed masks from eval.mask_seed)", false),
        new("recon_full_mse", "test reconstruction MSE with every patch visible (no patch removed), over every patch", false),
        new("train_loss", "pre-training loss over the last epoch", false),
        .. ProbeMetrics.Declare("the frozen encoder's [CLS] of unmasked images", "raw pixels"),
        new("finetune_top1", "test top-1 after fine-tuning encoder + linear head on whole images", true, "%"),
        new("finetune_top5", "test top-5 after fine-tuning (more than 5 classes)", true, "%"),
        new("finetune_loss", "test cross-entropy after fine-tuning", false, "nats"),
        new("finetune_train_loss", "fine-tuning training loss over its last epoch", false, "nats"),
        new("scratch_finetune_top1", "control: finetune_top1 of the encoder at its initialisation, fine-tuned with the same recipe, head init and data order",
            true, "%", new MetricControl("finetune_top1", ControlKind.FromScratch)),
        new("scratch_finetune_top5", "control: finetune_top5 from scratch", true, "%", new MetricControl("finetune_top5", ControlKind.FromScratch)),
        new("scratch_finetune_loss", "control: finetune_loss from scratch", false, "nats", new MetricControl("finetune_loss", ControlKind.FromScratch)),
        new("scratch_finetune_train_loss", "control: finetune_train_loss from scratch", false, "nats", new MetricControl("finetune_train_loss", ControlKind.FromScratch)),
        new("parameters", "every tensor of the autoencoder's state_dict (frozen position tables and CRATE-MAE's unused decoder_embed included), as the paper counts", false),
        new("parameters_trainable", "parameters the pre-training optimiser updates", false),
        new("train_seconds", "training wall time of every phase (pre-training, fine-tuning, the from-scratch control), evaluations included", false, "s"),
        new("samples_per_s", "pre-training throughput (images per second over the last steps)", true, "img/s"),
    ];

    /// <inheritdoc />
    public IReadOnlyList<PaperReference> PaperValues => MaePaperValues.References;

    /// <inheritdoc />
    public IReadOnlyList<NamedModelConfig> NamedConfigs
    {
        get
        {
            var list = MaeModels.NamedConfigs.Select(n => new NamedModelConfig(n.Name, n.Model,
                new MaeConfig(n.Model == MaeModels.Crate ? MaeKind.Crate : MaeKind.Vit, n.Dim, n.Depth, n.Heads, n.DecoderDim, n.DecoderDepth, n.DecoderHeads).ParameterCount(),
                $"224px patch 16; encoder d={n.Dim} L={n.Depth} K={n.Heads}, decoder d={n.DecoderDim} L={n.DecoderDepth} K={n.DecoderHeads}; {n.Source}" +
                (n.PaperParameters > 0 ? FormattableString.Invariant($"; paper {n.PaperParameters / 1e6:F1}M") : ""))).ToList();
            foreach (var preset in MaePresets.All.Where(p => p.Name is "small" or "smoke"))
                foreach (var model in Models)
                {
                    var shape = MaeModels.From(Schema.Resolve(preset.ValuesFor(model.Name)), model.Name);
                    list.Add(new NamedModelConfig($"{preset.Name}-{model.Name}", model.Name, shape.ParameterCount(), $"the {preset.Name} preset: {shape}"));
                }
            return list;
        }
    }

    /// <inheritdoc />
    public RunResult Run(IRunContext ctx)
    {
        var config = ctx.Config;
        CheckConfig(ctx.Model, config);
        var shape = MaeModels.From(config, ctx.Model);
        int keep = MaeModels.KeepCount(config, shape.NumPatches);
        var pretrainOptions = TrainerOptions.FromConfig(config);
        var finetuneOptions = TrainerOptions.FromConfig(config, MaeKeys.Finetune);
        string dataDir = ctx.DataDirectory(config.Get(ImageKeys.Dataset));
        var data = ImageTaskData.Load(config, dataDir, shape.Channels, shape.ImageSize, config.GetInt(ImageKeys.NumClasses));
        var seeds = TrainingSeeds.From(ctx.Seed);
        var device = Devices.Resolve(ctx.Device);
        int workers = config.GetInt(ImageKeys.Workers);
        bool prefetch = config.Get(ImageKeys.Prefetch);
        double ratio = config.Get(MaeKeys.MaskRatio);
        bool controls = config.Get(ProbeKeys.Controls);

        using var module = Initial(shape, seeds);
        var model = (IMaskedAutoencoder)module;
        ctx.Logger.LogInformation("{Model}: {Shape}; {All:N0} parameters ({Trainable:N0} trained), {Keep} of {Patches} patches visible; {Train} training and {Test} test images of {Dataset} from {Dir}",
            ctx.Model, shape, shape.ParameterCount(), shape.ParameterCount(everyTensor: false), keep, shape.NumPatches, data.Train.Count, data.Test.Count, data.Name, dataDir);
        var evaluator = new MaeEvaluator(data, shape, keep, config.GetInt(MaeKeys.MaskSeed), config.GetInt(MaeKeys.EvalBatch), workers, prefetch);

        var suite = evaluator.Suite(config.GetInt(MaeKeys.ProbeTrainLimit), ProbeKeys.LowLabelCounts(config), SeedMath.Derive(ctx.Seed, "low-label"),
            config.GetInt(MaeKeys.ProbeMaxIterations));
        bool monitor = config.Get(MaeKeys.KnnEveryEpoch);

        // Phase 1: masked autoencoding; the test reconstruction loss under fixed masks (and, with eval.knn_every_epoch, the
        // encoder's 20-NN) at each evaluation.
        TrainingResult pretrain;
        using (var batches = TrainBatches(data, pretrainOptions.EffectiveMicroBatch, seeds.DataOrder, workers, prefetch))
        {
            var spec = PretrainSpec(module, batches, shape, ratio, evaluate: e =>
            {
                var row = new Dictionary<string, double> { ["recon_loss"] = evaluator.ReconstructionLoss(model, e.Device, e.Cancellation) };
                if (monitor)
                    foreach (var (k, v) in evaluator.Monitor(model, module, suite, e.Device)) row[k] = v;
                return row;
            });
            pretrain = new Trainer<ViewBatch>(spec, pretrainOptions, ctx.Phase("pretrain")).Run();
        }
        module.to(device);
        module.eval();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["parameters"] = shape.ParameterCount(),
            ["parameters_trainable"] = shape.ParameterCount(everyTensor: false),
            ["recon_loss"] = pretrain.FinalMetrics.TryGetValue("recon_loss", out var recon) ? recon : evaluator.ReconstructionLoss(model, device, ctx.Cancellation),
            ["recon_full_mse"] = evaluator.FullReconstructionMse(model, device, ctx.Cancellation),
        };
        foreach (var name in new[] { "train_loss", "samples_per_s" })
            if (pretrain.FinalMetrics.TryGetValue(name, out var value)) metrics[name] = value;

        // Frozen encoder: probes (and the controls: the same encoder untrained, raw pixels), white-box rows, figures,
        // all before fine-tuning changes the shared encoder.
        if (config.Get(MaeKeys.Probes))
        {
            Add(metrics, ProbeMetrics.Select(evaluator.EncoderProbes(model, module, suite, device)));
            Add(metrics, ProbeMetrics.Select(evaluator.RawProbes(suite, ProbeCache.At(ctx.CacheDirectory)), ProbeMetrics.RawPrefix));
            if (controls)
            {
                using var initial = Initial(shape, seeds);
                initial.to(device);
                initial.eval();
                Add(metrics, ProbeMetrics.Select(evaluator.EncoderProbes((IMaskedAutoencoder)initial, initial, suite, device, ProbeMetrics.InitPrefix), ProbeMetrics.InitPrefix));
            }
            ctx.Logger.LogInformation("probes of {Model}: {Probes}", ctx.Model,
                string.Join(", ", metrics.Where(m => m.Key.Contains("_top1", StringComparison.Ordinal)).Select(m => FormattableString.Invariant($"{m.Key} {m.Value:F2}"))));
        }
        var whiteBox = new List<WhiteBoxRow>();
        if (module is CrateMae crate)
        {
            int samples = config.GetInt(MaeKeys.WhiteBoxSamples);
            whiteBox.AddRange(evaluator.WhiteBox(crate, samples, device));
            if (samples > 0)
            {
                using var initial = (CrateMae)Initial(shape, seeds);
                initial.to(device);
                whiteBox.AddRange(evaluator.WhiteBox(initial, samples, device, "@init"));
            }
            if (whiteBox.Count > 0) ctx.ReportWhiteBox(whiteBox);
        }
        var artifacts = evaluator.Figures(model, module, config.GetInt(MaeKeys.ReconstructionImages), device, ctx.RunDirectory, ctx.Model);

        // Phase 2: encoder + linear head on whole images, layer-wise learning-rate decay; then, as the control, the same
        // fine-tuning (recipe, head init, data order) of the encoder at its initialisation.
        try
        {
            var finetune = Finetune(model, data, shape, seeds, finetuneOptions, config, evaluator, ctx.Phase("finetune"), workers, prefetch);
            foreach (var (from, to) in FinetuneMetrics)
                if (finetune.FinalMetrics.TryGetValue(from, out var value)) metrics[to] = value;
            double seconds = pretrain.TrainSeconds + finetune.TrainSeconds;
            if (controls)
            {
                using var scratch = Initial(shape, seeds);
                var fromScratch = Finetune((IMaskedAutoencoder)scratch, data, shape, seeds, finetuneOptions, config, evaluator, ctx.Phase("finetune-scratch"), workers, prefetch);
                foreach (var (from, to) in FinetuneMetrics)
                    if (fromScratch.FinalMetrics.TryGetValue(from, out var value)) metrics["scratch_" + to] = value;
                seconds += fromScratch.TrainSeconds;
            }
            metrics["train_seconds"] = seconds;
        }
        finally
        {
            evaluator.Dispose();
        }
        return new RunResult(metrics, whiteBox, artifacts);

        static void Add(Dictionary<string, double> into, IEnumerable<KeyValuePair<string, double>> values)
        {
            foreach (var (k, v) in values) into[k] = v;
        }
    }

    /// <summary>Fine-tuning metrics: the trainer's name → the run's.</summary>
    private static readonly (string From, string To)[] FinetuneMetrics =
        [("top1", "finetune_top1"), ("top5", "finetune_top5"), ("loss", "finetune_loss"), ("train_loss", "finetune_train_loss")];

    /// <summary>
    /// The autoencoder as every run of seed <paramref name="seeds"/> starts it: the global generator seeded with
    /// <see cref="TrainingSeeds.Init"/>, then the modules built. The pre-training, the initialisation probes and the
    /// from-scratch fine-tune each take one, so the controls start from exactly the weights pre-training started from.
    /// </summary>
    public static nn.Module Initial(MaeConfig shape, TrainingSeeds seeds)
    {
        torch.manual_seed(seeds.Init);
        return MaeModels.Build(shape);
    }

    /// <summary>
    /// One fine-tuning phase: encoder of <paramref name="model"/> + a linear head (seeded from the run's init seed, so the
    /// pre-trained and the from-scratch encoder get the same head), layer-wise decay, the run's data order.
    /// </summary>
    public static TrainingResult Finetune(IMaskedAutoencoder model, ImageTaskData data, MaeConfig shape, TrainingSeeds seeds, TrainerOptions options,
        ResolvedConfig config, MaeEvaluator evaluator, IRunContext phase, int workers, bool prefetch)
    {
        torch.manual_seed(SeedMath.Derive(seeds.Init, "finetune-head"));             // the head's init, independent of what ran before
        var classifier = new MaeClassifier(model, data.Test.ClassNames.Count);
        try
        {
            options = options with
            {
                ParameterScales = ParameterScale.LayerDecay(shape.Depth, config.Get(MaeKeys.Finetune.LayerDecay), name => MaeClassifier.LayerOf(name, shape.Depth)),
            };
            using var batches = TrainBatches(data, options.EffectiveMicroBatch, SeedMath.Derive(seeds.DataOrder, "finetune"), workers, prefetch);
            var spec = TrainingSpec.ForModel(classifier, batches,
                loss: (b, _) => Losses.CrossEntropy(classifier.forward(b.Images), b.Labels),
                evaluate: e => evaluator.Classification(classifier, e.Device, e.Cancellation));
            return new Trainer<ViewBatch>(spec, options, phase).Run();
        }
        finally
        {
            classifier.DisposeHead();
        }
    }

    /// <summary>
    /// What the reference would refuse, before anything runs: the shape (<see cref="MaeModels.From"/>: patch size,
    /// widths against heads, CRATE-MAE's decoder width, named sizes), a mask ratio that leaves no visible patch or
    /// masks none, and a layer decay of 0.
    /// </summary>
    public void CheckConfig(string model, ResolvedConfig config)
    {
        MaeModels.From(config, model);
        ProbeKeys.LowLabelCounts(config);
        if (config.Get(MaeKeys.Finetune.LayerDecay) <= 0)
            throw new ConfigException("config key 'finetune.layer_decay': must be in (0, 1] (1: no decay)");
    }

    /// <summary>
    /// The pre-training spec <see cref="Run"/> trains: the masked autoencoder's reconstruction loss under a fresh
    /// random mask of <paramref name="ratio"/> of the patches per micro-batch, drawn from the step's generator.
    /// </summary>
    public static TrainingSpec<ViewBatch> PretrainSpec(nn.Module module, IBatchSource<ViewBatch> batches, MaeConfig shape, double ratio,
        Func<EvalContext, IReadOnlyDictionary<string, double>>? evaluate)
    {
        var model = (IMaskedAutoencoder)module;
        return TrainingSpec.ForModel(module, batches,
            loss: (b, step) =>
            {
                using var mask = MaeMask.Random(b.Count, shape.NumPatches, ratio, step.Device, step.Generator);
                return model.Forward(b.Images, mask).Loss;
            },
            evaluate: evaluate);
    }

    private static ImageBatchSource TrainBatches(ImageTaskData data, int microBatch, long seed, int workers, bool prefetch) =>
        new(new ImageBatchLoader(data.Train, data.TrainPipeline, new ImageLoaderOptions
        {
            BatchSize = microBatch, Shuffle = true, DropLast = true, Seed = (ulong)seed, Workers = workers,
        }), prefetch);

    /// <inheritdoc />
    public EvaluationResult Evaluate(CheckpointRequest request)
    {
        var config = request.Config;
        if (request.Model is not (MaeModels.Crate or MaeModels.Mae))
            throw new ConfigException($"unknown model '{request.Model}' (mae task models: {MaeModels.Crate}, {MaeModels.Mae})");
        var checkpoint = MaeCheckpoint.Open(request.CheckpointPath, request.Model, config);
        var shape = checkpoint.Shape;
        int keep = MaeModels.KeepCount(config, shape.NumPatches);
        string dataDir = request.DataDirectory(config.Get(ImageKeys.Dataset));
        bool probes = config.Get(MaeKeys.Probes);
        var data = ImageTaskData.Load(config, dataDir, shape.Channels, shape.ImageSize, config.GetInt(ImageKeys.NumClasses), loadTrain: probes);
        var device = Devices.Resolve(request.Device);

        torch.manual_seed(0);
        using var module = MaeModels.Build(shape);
        checkpoint.LoadInto(module);
        module.to(device);
        module.eval();
        var model = (IMaskedAutoencoder)module;
        using var evaluator = new MaeEvaluator(data, shape, keep, config.GetInt(MaeKeys.MaskSeed), config.GetInt(MaeKeys.EvalBatch),
            config.GetInt(ImageKeys.Workers), config.Get(ImageKeys.Prefetch));
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["recon_loss"] = evaluator.ReconstructionLoss(model, device, request.Cancellation),
            ["recon_full_mse"] = evaluator.FullReconstructionMse(model, device, request.Cancellation),
            ["parameters"] = shape.ParameterCount(),
        };
        // The reference protocol: probes fitted on the whole training split unless the user limits them (the presets'
        // eval.probe_train_limit keeps `reproduce` fast and applies only when given on the command line here).
        int probeTrain = request.ExplicitKeys.Contains(MaeKeys.ProbeTrainLimit.Name) ? config.GetInt(MaeKeys.ProbeTrainLimit) : 0;
        var notes = new List<string> { $"{request.Model} ({shape}) from the {checkpoint.Kind} {checkpoint.WeightsPath}" };
        notes.AddRange(checkpoint.Notes);
        notes.Add(FormattableString.Invariant($"Test split: {data.Test.Name}, {data.Test.Count} images from {dataDir}; recon_loss with {keep} of {shape.NumPatches} patches visible (eval.mask_seed {config.GetInt(MaeKeys.MaskSeed)}), recon_full_mse with all {shape.NumPatches} visible."));
        if (probes)
        {
            var suite = evaluator.Suite(probeTrain, ProbeKeys.LowLabelCounts(config), SeedMath.Derive(0, "low-label"), config.GetInt(MaeKeys.ProbeMaxIterations));
            foreach (var (k, v) in ProbeMetrics.Select(evaluator.EncoderProbes(model, module, suite, device))) metrics[k] = v;
            foreach (var (k, v) in ProbeMetrics.Select(evaluator.RawProbes(suite, null), ProbeMetrics.RawPrefix)) metrics[k] = v;
            metrics["accuracy"] = metrics["linear_top1"];
            int fitted = suite.FullRows?.Count ?? data.Train.Count;
            notes.Add(FormattableString.Invariant($"Probes fitted on {fitted} of {data.Train.Count} training images (") +
                      (probeTrain > 0 ? $"eval.probe_train_limit {probeTrain} as given" : "the whole split, the reference protocol; --set eval.probe_train_limit=N limits it") +
                      FormattableString.Invariant($"), at most {config.GetInt(MaeKeys.ProbeMaxIterations)} L-BFGS iterations per fit; low-label probes (l<k>_*) on k images per class drawn with seed 0; accuracy = linear_top1 in %; raw_* are the pixels."));
        }
        return new EvaluationResult(metrics, notes);
    }
}
