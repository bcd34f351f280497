using Crate.Core.Contract;
using static Crate.Core.Contract.PresetValues;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using TorchSharp;
using static TorchSharp.torch;

[assembly: CratePlugin(PluginContract.Version)]

namespace Crate.Plugins.Sample;

/// <summary>
/// A complete third-party task, kept small: classify which of K low-dimensional subspaces a set of
/// tokens was drawn from (the mixture-of-subspaces data model behind CRATE's derivation), with a
/// CRATE encoder against a ViT-block transformer, both trained by the shared trainer under one recipe.
/// Data come from a generator (default) or from CSV files (<c>--set data.source=csv --data subspaces=DIR</c>).
/// <para>
/// It shows the two-phase shape of the pre-training tasks (<see cref="RunPhase"/>): phase <c>pretrain</c>
/// trains encoder and head on the whole training set (<c>train.*</c>); phase <c>finetune</c> re-initialises the
/// head and fine-tunes on the first <c>data.finetune_size</c> training samples with its own recipe
/// (<c>finetune.*</c>, layer-wise learning-rate decay included), as a few-shot transfer. Each phase has its own
/// checkpoints and rows; a run killed in phase 2 resumes phase 2.
/// </para>
/// </summary>
public sealed class SubspacesTask : ICrateTask, IHeadlineMetric, INamedConfigBuilder
{
    private static readonly ConfigKey<string> Source = Key.Choice("data.source", "synthetic", "where samples come from: generated, or DIR/train.csv and DIR/test.csv of dataset 'subspaces'", "synthetic", "csv");
    private static readonly ConfigKey<long> Classes = Key.Int("data.classes", 4, "number of subspaces (classes)", 2, 1000);
    private static readonly ConfigKey<long> Tokens = Key.Int("data.tokens", 8, "tokens per sample", 1, 4096);
    private static readonly ConfigKey<long> Dim = Key.Int("data.dim", 16, "dimension of a token", 1, 65536);
    private static readonly ConfigKey<long> Rank = Key.Int("data.rank", 2, "dimension of each subspace", 1, 65536);
    private static readonly ConfigKey<double> Noise = Key.Float("data.noise", 0.5, "noise standard deviation relative to the signal", 0, 100);
    private static readonly ConfigKey<long> TrainSize = Key.Int("data.train_size", 2048, "generated training samples", 1);
    private static readonly ConfigKey<long> TestSize = Key.Int("data.test_size", 512, "generated test samples", 1);
    private static readonly ConfigKey<long> DataSeed = Key.Int("data.seed", 0, "seed of the generated dataset (fixed across run seeds)", 0);
    private static readonly ConfigKey<long> Width = Key.Int("model.dim", 32, "model width d", 1, 65536);
    private static readonly ConfigKey<long> Depth = Key.Int("model.depth", 2, "layers", 1, 256);
    private static readonly ConfigKey<long> Heads = Key.Int("model.heads", 4, "heads (subspaces of MSSA); must divide model.dim", 1, 1024);
    private static readonly ConfigKey<long> FinetuneSize = Key.Int("data.finetune_size", 256, "training samples of the finetune phase (the first ones; at most data.train_size)", 1);
    private static readonly TrainerKeySet Finetune = TrainerKeys.For("finetune");

    /// <inheritdoc />
    public string Name => "sample";
    /// <inheritdoc />
    public string Title => "Sample plugin: which subspace did these tokens come from? (CRATE vs transformer)";

    /// <inheritdoc />
    public IReadOnlyList<ModelInfo> Models { get; } =
    [
        new("crate", ModelRole.Crate, "CRATE encoder, mean pool, linear head"),
        new("transformer", ModelRole.Baseline, "pre-norm ViT blocks, mean pool, linear head"),
    ];

    /// <inheritdoc />
    public ConfigSchema Schema { get; } = new(
        new ConfigKey[] { Source, Classes, Tokens, Dim, Rank, Noise, TrainSize, TestSize, DataSeed, FinetuneSize, Width, Depth, Heads }
            .Concat(TrainerKeys.All).Concat(Finetune.All).Append(Finetune.LayerDecay)
            .Append(TrainerKeys.Train.NanRetries).Append(Finetune.NanRetries));


    /// <inheritdoc />
    public IReadOnlyList<Preset> Presets { get; } =
    [
        new("smoke", "seconds: 256 samples, 2 epochs, width 16; a fine-tuning rate that lets the fresh head beat chance in 8 steps", Values(
            ("data.train_size", "256"), ("data.test_size", "128"), ("model.dim", "16"), ("model.heads", "2"),
            ("train.epochs", "2"), ("train.batch_size", "32"), ("train.lr", "3e-3"), ("train.warmup_steps", "2"),
            ("data.finetune_size", "64"), ("finetune.epochs", "2"), ("finetune.batch_size", "16"), ("finetune.lr", "1e-2"),
            ("finetune.layer_decay", "0.75")), NoPerModel),
        new("small", "about a minute on 2 cores: 2,048 samples, 15 epochs, width 32", Values(
            ("train.epochs", "15"), ("train.batch_size", "64"), ("train.lr", "2e-3"), ("train.warmup_steps", "20"),
            ("train.weight_decay", "0.05"), ("finetune.epochs", "10"), ("finetune.batch_size", "32"), ("finetune.lr", "5e-4"),
            ("finetune.warmup_steps", "8"), ("finetune.layer_decay", "0.75")), NoPerModel),
        new("paper", "no published result: the same data at CRATE-T width (d=384, 12 layers, 6 heads)", Values(
            ("data.dim", "64"), ("data.tokens", "32"), ("data.classes", "10"), ("data.rank", "4"), ("data.train_size", "20000"),
            ("model.dim", "384"), ("model.depth", "12"), ("model.heads", "6"), ("train.epochs", "50"), ("train.batch_size", "256"),
            ("train.optimizer", "lion"), ("train.lr", "2.4e-4"), ("train.weight_decay", "0.5"), ("train.warmup_epochs", "5"),
            ("data.finetune_size", "2000"), ("finetune.epochs", "20"), ("finetune.batch_size", "64"), ("finetune.lr", "1e-4"),
            ("finetune.warmup_epochs", "2"), ("finetune.layer_decay", "0.65")), NoPerModel),
    ];

    /// <inheritdoc />
    public IReadOnlyList<DatasetNeed> Datasets { get; } =
    [
        new("subspaces", "CSV files train.csv and test.csv: a header, then label,v0,v1,... (tokens x dim values)", null,
            HowToGet: "Any folder with train.csv and test.csv in that format (SubspaceData.WriteCsv writes one)."),
    ];

    /// <inheritdoc />
    public IReadOnlyList<string> RequiredDatasets(ResolvedConfig config) => config.Get(Source) == "csv" ? ["subspaces"] : [];

    /// <inheritdoc />
    public IReadOnlyList<MetricInfo> Metrics { get; } =
    [
        new("accuracy", "test accuracy after the finetune phase", true, "%"),
        new("pretrain_accuracy", "test accuracy at the end of the pretrain phase", true, "%"),
        new("loss", "test cross-entropy", false, "nats"),
        new("parameters", "trainable parameters", false),
        new("train_seconds", "training wall time of both phases, evaluations included, summed over resumes", false, "s"),
    ];

    /// <inheritdoc />
    public IReadOnlyList<PaperReference> PaperValues { get; } = [];

    /// <inheritdoc />
    public IReadOnlyList<NamedModelConfig> NamedConfigs =>
        Models.Select(m =>
        {
            var cfg = Schema.Resolve(Presets.Single(p => p.Name == "small").ValuesFor(m.Name));
            using var model = Build(m.Name, cfg);
            return new NamedModelConfig($"sample-small", m.Name, ModuleParameters.Count(model), "the small preset");
        }).ToList();

    /// <summary>Test accuracy after fine-tuning; chance is a uniform guess over the <c>data.classes</c> subspaces.</summary>
    public HeadlineMetric Headline(ResolvedConfig config)
    {
        int classes = config.GetInt(Classes);
        return new HeadlineMetric("accuracy", 100.0 / classes, $"100 % / {classes} classes");
    }

    /// <summary>Builds the small preset's model of <paramref name="named"/> (the one <see cref="NamedConfigs"/> counts).</summary>
    public nn.Module? BuildNamed(NamedModelConfig named) =>
        named.Name == "sample-small" ? Build(named.Model, Schema.Resolve(Presets.Single(p => p.Name == "small").ValuesFor(named.Model))) : null;

    private static nn.Module<Tensor, Tensor> Build(string model, ResolvedConfig c)
    {
        int inDim = c.GetInt(Dim), width = c.GetInt(Width), depth = c.GetInt(Depth), heads = c.GetInt(Heads), classes = c.GetInt(Classes);
        if (width % heads != 0) throw new ConfigException($"config key 'model.heads': {heads} does not divide model.dim = {width}");
        return model == "crate"
            ? new CrateSetClassifier(inDim, width, depth, heads, classes)
            : new TransformerSetClassifier(inDim, width, depth, heads, classes);
    }

    /// <inheritdoc />
    public RunResult Run(IRunContext ctx)
    {
        var c = ctx.Config;
        var (train, test) = LoadData(ctx);
        int finetuneSize = c.GetInt(FinetuneSize);
        if (finetuneSize > train.Count)
            throw new ConfigException($"config key 'data.finetune_size': {finetuneSize} exceeds the {train.Count} training samples");
        var seeds = TrainingSeeds.From(ctx.Seed);
        torch.manual_seed(seeds.Init);
        var device = Devices.Resolve(ctx.Device);
        using var model = Build(ctx.Model, c);
        model.to(device);

        // Phase 1: encoder and head on the whole training set.
        var pretrainOptions = TrainerOptions.FromConfig(c) with { BestMetric = "accuracy", HigherIsBetter = true };
        var pretrain = new Trainer<Batch>(TrainingSpec.ForModel(model, new Batches(train, pretrainOptions.EffectiveMicroBatch, seeds),
                loss: (b, _) => Losses.CrossEntropy(model.forward(b.X), b.Y),
                evaluate: e => Evaluate(model, test, e.Device)),
            pretrainOptions, ctx.Phase("pretrain")).Run();

        // Phase 2: a fresh head, fine-tuned with the encoder on a few labelled samples, deeper layers at a higher rate.
        ResetHead(model, seeds);
        var finetuneOptions = TrainerOptions.FromConfig(c, Finetune);
        finetuneOptions = finetuneOptions with
        {
            ParameterScales = ParameterScale.LayerDecay(c.GetInt(Depth), finetuneOptions.LayerDecay, name => LayerOf(name, c.GetInt(Depth))),
        };
        var fewShot = train.Take(finetuneSize);
        var finetune = new Trainer<Batch>(TrainingSpec.ForModel(model, new Batches(fewShot, finetuneOptions.EffectiveMicroBatch, seeds),
                loss: (b, _) => Losses.CrossEntropy(model.forward(b.X), b.Y),
                evaluate: e => Evaluate(model, test, e.Device)),
            finetuneOptions, ctx.Phase("finetune")).Run();

        var metrics = new Dictionary<string, double>(finetune.FinalMetrics)
        {
            ["pretrain_accuracy"] = pretrain.FinalMetrics["accuracy"],
            ["parameters"] = ModuleParameters.Count(model),
            ["train_seconds"] = pretrain.TrainSeconds + finetune.TrainSeconds,
        };
        IReadOnlyList<WhiteBoxRow> whiteBox = [];
        if (model is CrateSetClassifier crate)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            crate.eval();
            var (x, _) = Slice(test, 0, Math.Min(test.Count, 256), device);
            whiteBox = WhiteBoxProbe.Measure(crate.transformer.Layers, crate.Embed(x), "test");
            ctx.ReportWhiteBox(whiteBox);
        }
        return new RunResult(metrics, whiteBox, []);
    }

    /// <summary>
    /// Layer ids for layer-wise decay: 0 the token embedding, i + 1 the i-th block (<c>transformer.layers.i.*</c> or
    /// <c>blocks.i.*</c>), depth + 1 the final norm and the head.
    /// </summary>
    private static int LayerOf(string name, int depth)
    {
        if (name.StartsWith("embed.", StringComparison.Ordinal)) return 0;
        foreach (var prefix in new[] { "transformer.layers.", "blocks." })
            if (name.StartsWith(prefix, StringComparison.Ordinal))
                return int.Parse(name.AsSpan(prefix.Length, name.IndexOf('.', prefix.Length) - prefix.Length), System.Globalization.CultureInfo.InvariantCulture) + 1;
        return depth + 1;
    }

    /// <summary>Re-draws the head's weights (seeded), as a fine-tuning recipe starts from a new classifier.</summary>
    private static void ResetHead(nn.Module model, TrainingSeeds seeds)
    {
        using var noGrad = no_grad();
        torch.manual_seed(SeedMath.Derive(seeds.Init, "finetune-head"));
        foreach (var (name, p) in model.named_parameters())
            if (name.StartsWith("head.", StringComparison.Ordinal))
            {
                if (p.dim() == 2) nn.init.xavier_uniform_(p);
                else p.zero_();
            }
    }

    private static (SubspaceData Train, SubspaceData Test) LoadData(IRunContext ctx)
    {
        var c = ctx.Config;
        int tokens = c.GetInt(Tokens), dim = c.GetInt(Dim), classes = c.GetInt(Classes);
        if (c.Get(Source) == "csv")
        {
            var dir = ctx.DataDirectory("subspaces");
            return (SubspaceData.ReadCsv(Path.Combine(dir, "train.csv"), tokens, dim, classes),
                    SubspaceData.ReadCsv(Path.Combine(dir, "test.csv"), tokens, dim, classes));
        }
        int rank = c.GetInt(Rank);
        if (rank > dim) throw new ConfigException($"config key 'data.rank': {rank} exceeds data.dim = {dim}");
        long seed = c.Get(DataSeed);
        return (SubspaceData.Generate(c.GetInt(TrainSize), classes, tokens, dim, rank, c.Get(Noise), seed, splitSeed: 1),
                SubspaceData.Generate(c.GetInt(TestSize), classes, tokens, dim, rank, c.Get(Noise), seed, splitSeed: 2));
    }

    private static IReadOnlyDictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, SubspaceData test, Device device)
    {
        const int batch = 256;
        double correct = 0, loss = 0;
        for (int start = 0; start < test.Count; start += batch)
        {
            using var scope = NewDisposeScope();
            var (x, y) = Slice(test, start, Math.Min(batch, test.Count - start), device);
            var logits = model.forward(x);
            loss += Losses.CrossEntropy(logits, y).item<float>() * y.shape[0];
            correct += logits.argmax(1).eq(y).sum().item<long>();
        }
        return new Dictionary<string, double> { ["accuracy"] = 100.0 * correct / test.Count, ["loss"] = loss / test.Count };
    }

    private static (Tensor X, Tensor Y) Slice(SubspaceData d, int start, int count, Device device)
    {
        int per = d.TokenCount * d.Dim;
        var x = tensor(d.Tokens.AsSpan(start * per, count * per).ToArray(), [count, d.TokenCount, d.Dim]);   // [B, n, d_in]
        var y = tensor(d.Labels.AsSpan(start, count).ToArray());
        return (x.to(device), y.to(device));
    }

    /// <summary>One micro-batch: tokens [B, n, d_in] and labels [B].</summary>
    public sealed record Batch(Tensor X, Tensor Y);

    /// <summary>Micro-batches in a seeded per-epoch order; a pure function of the position.</summary>
    private sealed class Batches(SubspaceData data, int microBatch, TrainingSeeds seeds) : IBatchSource<Batch>
    {
        public int MicroBatchSize => microBatch;
        public long BatchesPerEpoch => data.Count / microBatch;

        public Batch Get(DataPosition position, Device device)
        {
            var order = seeds.EpochPermutation(position.Epoch, data.Count);
            int per = data.TokenCount * data.Dim;
            var x = new float[microBatch * per];
            var y = new long[microBatch];
            for (int i = 0; i < microBatch; i++)
            {
                int s = order[position.Index * microBatch + i];
                Array.Copy(data.Tokens, s * per, x, i * per, per);
                y[i] = data.Labels[s];
            }
            return new Batch(tensor(x, [microBatch, data.TokenCount, data.Dim]).to(device), tensor(y).to(device));   // [B, n, d_in], [B]
        }
    }
}
