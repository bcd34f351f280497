using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

[assembly: CratePlugin(PluginContract.Version)]

namespace Crate.Plugins.Gpt2;

/// <summary>
/// Causal language modelling (docs/paper.md §3f): CRATE-GPT against nanoGPT's GPT-2 under one recipe,
/// next-token cross-entropy on GPT-2 BPE tokens. Reports validation loss (nats/token) and perplexity, the
/// layer-wise white-box measurements of CRATE-GPT on validation sequences, and generates text (<c>sample</c>).
/// </summary>
public sealed partial class Gpt2Task : ICrateTask, ITextSampler, IHeadlineMetric, INamedConfigBuilder
{
    /// <inheritdoc />
    public string Name => "gpt2";

    /// <inheritdoc />
    public string Title => "Causal language modelling: CRATE-GPT vs GPT-2 (validation loss, perplexity)";

    /// <inheritdoc />
    public IReadOnlyList<ModelInfo> Models => Gpt2Models.All;

    /// <inheritdoc />
    public ConfigSchema Schema { get; } = new(Gpt2Keys.All);

    /// <inheritdoc />
    public IReadOnlyList<Preset> Presets => Gpt2Presets.All;

    /// <inheritdoc />
    public IReadOnlyList<DatasetNeed> Datasets { get; } =
    [
        new(Gpt2Keys.MobyDick, "Moby-Dick (Melville), UTF-8 text, public domain; 90/10 split by paragraphs", "moby-dick",
            HowToGet: "Shipped as data/moby-dick/mobydick.txt.gz (rebuild: tools/data/make-moby-dick.sh)."),
        new(Gpt2Keys.Text, "any UTF-8 text: a folder of .txt/.txt.gz files (one document each), split 90/10", null,
            HowToGet: "Pass --data text=DIR with .txt or .txt.gz files (or --set data.path=FILE for one file) and --set data.dataset=text."),
        new(Gpt2Keys.Tokens, "nanoGPT token files: train.bin and val.bin, headerless little-endian uint16 GPT-2 ids", null,
            HowToGet: "Run nanoGPT's data/openwebtext/prepare.py (writes train.bin, val.bin) and pass --data tokens=DIR with --set data.dataset=tokens (the paper preset's default)."),
    ];

    /// <inheritdoc />
    public IReadOnlyList<string> RequiredDatasets(ResolvedConfig config) =>
        config.Get(Gpt2Keys.DataPath).Length > 0 ? [] : [config.Get(Gpt2Keys.Dataset)];

    /// <inheritdoc />
    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("val_loss", "validation next-token cross-entropy", false, "nats/token"),
        new("perplexity", "validation perplexity exp(val_loss)", false),
        new("train_loss", "training loss, mean over the last evaluation interval", false, "nats/token"),
        new("unigram_entropy", "unigram entropy of the train split: the loss of a model without context (small files only)", false, "nats/token"),
        new("tokens_per_s", "training throughput (last 20 steps)", true, "tokens/s"),
        new("parameters", "parameters (tied head once, position embedding included)", false),
        new("train_seconds", "training wall time incl. evaluations", false, "s"),
    ];

    /// <inheritdoc />
    public IReadOnlyList<PaperReference> PaperValues => Gpt2PaperValues.References;

    /// <inheritdoc />
    public IReadOnlyList<NamedModelConfig> NamedConfigs
    {
        get
        {
            var base_ = ModelZoo.GptBase;
            var small = Gpt2Keys.ModelConfig(Schema.Resolve(Gpt2Presets.Small.ValuesFor(Gpt2Models.Crate)));
            NamedModelConfig Named(string name, string model, GptConfig c, string what) =>
                new(name, model, Gpt2Models.ParameterCount(model, c),
                    $"{what}: L={c.NLayer} K={c.NHead} d={c.NEmbd}, context {c.BlockSize}, vocabulary {c.VocabSize} " +
                    $"(tied head once, wpe included; {Gpt2Models.NonEmbeddingParameterCount(model, c) / 1e6:0.0}M without wpe)");
            return
            [
                Named("CRATE-GPT-base", Gpt2Models.Crate, base_, "paper §3f (reported 60M, 59.9M without wpe)"),
                Named("GPT-2-base", Gpt2Models.Gpt2, base_, "paper §3f baseline (reported 124M)"),
                Named("CRATE-GPT-small", Gpt2Models.Crate, small, "the small preset"),
                Named("GPT-2-small", Gpt2Models.Gpt2, small, "the small preset"),
            ];
        }
    }

    /// <summary>
    /// Validation loss; chance is a uniform guess over the vocabulary, ln(vocab_size) nats. A model that uses no
    /// context reaches the unigram entropy (reported as <c>unigram_entropy</c>), well below it.
    /// </summary>
    public HeadlineMetric Headline(ResolvedConfig config)
    {
        int vocabulary = Gpt2Keys.ModelConfig(config).VocabSize;
        return new HeadlineMetric("val_loss", Math.Log(vocabulary), $"ln({vocabulary}) nats, a uniform guess over the vocabulary");
    }

    /// <summary>Builds the named base or small-preset model (the shapes <see cref="NamedConfigs"/> counts).</summary>
    public nn.Module? BuildNamed(NamedModelConfig named)
    {
        GptConfig? shape = named.Name switch
        {
            "CRATE-GPT-base" or "GPT-2-base" => ModelZoo.GptBase,
            "CRATE-GPT-small" or "GPT-2-small" => Gpt2Keys.ModelConfig(Schema.Resolve(Gpt2Presets.Small.ValuesFor(named.Model))),
            _ => null,
        };
        return shape is null ? null : Gpt2Models.Build(named.Model, shape);
    }

    /// <inheritdoc />
    public RunResult Run(IRunContext ctx)
    {
        var c = ctx.Config;
        var shape = Gpt2Keys.ModelConfig(c);
        var options = TrainerOptions.FromConfig(c) with { BestMetric = "val_loss", HigherIsBetter = false };
        options.Validate();
        using var corpus = Gpt2Data.Open(c, ctx.DataDirectory, Gpt2Data.CacheRoot(ctx));
        ctx.Logger.LogInformation("{Corpus}: {Train:N0} train and {Val:N0} validation tokens{Split}", corpus.Directory, corpus.Train.Length, corpus.Val.Length,
            corpus.Info is { } info ? "; " + info.Split.Describe() : "");

        var seeds = TrainingSeeds.From(ctx.Seed);
        manual_seed(seeds.Init);
        using var model = Gpt2Models.Build(ctx.Model, shape);
        int evalBatch = c.GetInt(Gpt2Keys.EvalBatchSize), evalBatches = c.GetInt(Gpt2Keys.EvalBatches);
        var spec = LanguageModelSpec(model, new RandomWindowBatches(corpus.Train, options.EffectiveMicroBatch, shape.BlockSize, seeds.DataOrder),
            evaluate: e =>
            {
                double loss = Gpt2Evaluation.MeanLoss(model, corpus.Val, evalBatch, shape.BlockSize, evalBatches, e.Device, e.Cancellation);
                return new Dictionary<string, double> { ["val_loss"] = loss, ["perplexity"] = Math.Exp(loss) };
            });
        var trainer = new Trainer<LmBatch>(spec, options, ctx);
        var result = trainer.Run();

        var last = result.FinalMetrics;
        var metrics = new Dictionary<string, double>
        {
            ["val_loss"] = last["val_loss"],
            ["perplexity"] = last["perplexity"],
            ["tokens_per_s"] = last["samples_per_s"] * shape.BlockSize,
            ["parameters"] = ModuleParameters.Count(model),
            ["train_seconds"] = result.TrainSeconds,
        };
        if (last.TryGetValue("train_loss", out double trainLoss)) metrics["train_loss"] = trainLoss;
        if (corpus.Train.Length <= TokenFile.FullCheckLimit) metrics["unigram_entropy"] = TokenStatistics.UnigramEntropy(corpus.Train);
        if (metrics.TryGetValue("unigram_entropy", out double unigram) && metrics["val_loss"] > unigram - 0.1)
            ctx.Logger.LogWarning(
                "{Model}: validation loss {Loss:F3} is not below the train split's unigram entropy {Unigram:F3}: the model learned no use of context. " +
                "CRATE-GPT first collapses to the unigram prediction and needs a few hundred steps to leave it (plugins/gpt2/README.md); raise train.max_steps",
                ctx.Model, metrics["val_loss"], unigram);

        IReadOnlyList<WhiteBoxRow> whiteBox = [];
        int sequences = c.GetInt(Gpt2Keys.WhiteBoxSequences);
        if (model is CrateGptModel crate && sequences > 0)
        {
            whiteBox = Gpt2Evaluation.MeasureWhiteBox(crate, corpus.Val, sequences, shape.BlockSize, trainer.Device);
            ctx.ReportWhiteBox(whiteBox);
        }
        return new RunResult(metrics, whiteBox, []);
    }

    /// <summary>The spec <see cref="Run"/> trains: next-token cross-entropy of the model's logits.</summary>
    public static TrainingSpec<LmBatch> LanguageModelSpec(nn.Module<Tensor, Tensor> model, IBatchSource<LmBatch> batches,
        Func<EvalContext, IReadOnlyDictionary<string, double>>? evaluate) =>
        TrainingSpec.ForModel(model, batches, loss: (b, _) => Gpt2Data.ModelLoss(model, b.X, b.Y), evaluate: evaluate);

    /// <inheritdoc />
    public string Sample(CheckpointRequest request, SamplingOptions options)
    {
        var (model, shape) = Gpt2Checkpoints.Load(request.Model, request.CheckpointPath, request.Config, request.ExplicitKeys, request.Logger);
        using (model)
        {
            var device = Devices.Resolve(request.Device);
            model.to(device);
            return Gpt2Sampler.Complete(model, shape.BlockSize, options, device, request.Cancellation);
        }
    }
}
