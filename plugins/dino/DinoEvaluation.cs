using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Evaluation;
using Crate.Core.WhiteBox;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Dino;

/// <summary>
/// What a DINO run is judged by: DINO's weighted 20-NN (T 0.07) and 1-NN and a linear probe on the teacher
/// backbone's [CLS] features (training split → test split), the same probes on the raw pixels beside them, the
/// collapse verdict, the last layer's [CLS] attention as PNG strips, and (CRATE) the white-box rows per layer.
/// </summary>
public static class DinoEvaluation
{
    /// <summary>[CLS] features of <paramref name="backbone"/> over <paramref name="split"/> in dataset order (eval mode, no gradients).</summary>
    public static FeatureSet Features(IDinoBackbone backbone, IImageDataset split, ImagePipeline pipeline, int batchSize, Device device,
        bool prefetch, string name, CancellationToken cancellation = default)
    {
        using var batches = Source(split, pipeline, batchSize, prefetch);
        return FeatureExtractor.Extract(x => backbone.Module.forward(x), Batches(batches, device, cancellation),
            split.ClassNames.Count, Pooling.Cls, backbone.Module, name);
    }

    /// <summary>The flattened normalised pixels of <paramref name="split"/> (the raw-input baseline).</summary>
    public static FeatureSet Pixels(IImageDataset split, ImagePipeline pipeline, int batchSize, bool prefetch, string name)
    {
        using var batches = Source(split, pipeline, batchSize, prefetch);
        return RawFeatures.Pixels(Batches(batches, CPU, CancellationToken.None), split.ClassNames.Count, name);
    }

    private static ImageBatchSource Source(IImageDataset split, ImagePipeline pipeline, int batchSize, bool prefetch) =>
        new(new ImageBatchLoader(split, pipeline, new ImageLoaderOptions { BatchSize = Math.Min(batchSize, split.Count), Shuffle = false, Prefetch = 2 }), prefetch);

    private static IEnumerable<ProbeBatch> Batches(ImageBatchSource source, Device device, CancellationToken cancellation)
    {
        for (long i = 0; i < source.BatchesPerEpoch; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var batch = source.Get(new Crate.Core.Training.DataPosition(0, i), device);
            yield return new ProbeBatch(batch.Images, batch.Labels);
        }
    }

    /// <summary>The 20-NN top-1 of the teacher (the per-epoch monitor): <c>knn20_top1</c>.</summary>
    public static Dictionary<string, double> Monitor(IDinoBackbone teacher, DinoData data, int batchSize, Device device, bool prefetch,
        CancellationToken cancellation)
    {
        using var train = Features(teacher, data.Train, data.TestPipeline, batchSize, device, prefetch, "train", cancellation);
        using var test = Features(teacher, data.Test, data.TestPipeline, batchSize, device, prefetch, "test", cancellation);
        var result = RepresentationProbes.Run(train, test, new ProbeOptions(KnnKs: [KnnClassifier.DefaultK], Linear: false));
        return new Dictionary<string, double>(result.ToMetrics(), StringComparer.Ordinal);
    }

    /// <summary>
    /// The probe suite of a run: full-label probes on the whole training split, low-label probes of <paramref name="perClass"/>
    /// images per class fixed by <paramref name="seed"/>, the linear probe (with <paramref name="linear"/>) at most
    /// <paramref name="maxIterations"/> L-BFGS iterations per fit.
    /// </summary>
    public static ProbeSuite Suite(DinoData data, IReadOnlyList<int> perClass, long seed, bool linear, int maxIterations) =>
        ProbeSuite.For(Enumerable.Range(0, data.Train.Count).Select(i => (long)data.Train.GetLabel(i)).ToArray(), data.Train.ClassNames.Count,
            0, perClass, seed, new ProbeOptions(Linear: linear, LinearOptions: new LinearProbeOptions(MaxIterations: maxIterations)));

    /// <summary>Every probe of <paramref name="suite"/> on the [CLS] features of <paramref name="backbone"/> (teacher, or the network at its initialisation), metrics prefixed <paramref name="prefix"/>.</summary>
    public static Dictionary<string, double> Probes(IDinoBackbone backbone, DinoData data, ProbeSuite suite, int batchSize, Device device, bool prefetch,
        string prefix = "", CancellationToken cancellation = default)
    {
        using var train = Features(backbone, data.Train, data.TestPipeline, batchSize, device, prefetch, $"{prefix}train", cancellation);
        using var test = Features(backbone, data.Test, data.TestPipeline, batchSize, device, prefetch, $"{prefix}test", cancellation);
        return suite.Run(train, test, prefix);
    }

    /// <summary>The same probes on the raw pixels, prefixed <c>raw_</c>, through <paramref name="cache"/> when given (they depend on no model).</summary>
    public static Dictionary<string, double> RawProbes(DinoData data, ProbeSuite suite, int batchSize, bool prefetch, ProbeCache? cache)
    {
        using var rawTrain = Pixels(data.Train, data.TestPipeline, batchSize, prefetch, "raw train");
        using var rawTest = Pixels(data.Test, data.TestPipeline, batchSize, prefetch, "raw test");
        return suite.Run(rawTrain, rawTest, ProbeMetrics.RawPrefix, cache);
    }

    /// <summary>Per-layer R^c, R and (non-)zero fractions of a CRATE backbone on <paramref name="samples"/> test images (split <paramref name="split"/>).</summary>
    public static IReadOnlyList<WhiteBoxRow> WhiteBox(CrateBackbone backbone, DinoData data, int samples, Device device, string split)
    {
        if (samples <= 0) return [];
        var subset = ImageSubset.Limit(data.Test, samples);
        var loader = new ImageBatchLoader(subset, data.TestPipeline, new ImageLoaderOptions { BatchSize = 128, Shuffle = false });
        var accumulator = new WhiteBoxAccumulator();
        bool wasTraining = backbone.training;
        backbone.eval();
        try
        {
            for (int start = 0; start < subset.Count; start += 128)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var batch = loader.PrepareBatch(new LoaderPosition(0, start));
                accumulator.Add(backbone.Layers, backbone.Embed(batch.ViewTensor(0, device)));   // Z^1 [B, n, d]
            }
        }
        finally
        {
            if (wasTraining) backbone.train();
        }
        return accumulator.Rows(split);
    }

    /// <summary>
    /// One PNG strip per test image (evenly spaced) with the last layer's [CLS] attention of <paramref name="backbone"/>:
    /// the input, each head, the mean over heads; written to <c>attention/</c> of the run folder and returned as artifacts.
    /// </summary>
    public static IReadOnlyList<Artifact> AttentionMaps(IDinoBackbone backbone, string model, DinoData data, int count, Device device, string runDirectory)
    {
        var artifacts = new List<Artifact>();
        if (count <= 0) return artifacts;
        var module = backbone.Module;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            var rng = new DataRng(0);   // the test pipeline draws nothing
            int n = Math.Min(count, data.Test.Count);
            foreach (int index in Enumerable.Range(0, n).Select(k => (int)((long)k * data.Test.Count / n)))
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                ByteImage input = data.TestPipeline.Transform(data.Test.GetImage(index), rng);
                var pixels = new float[input.Data.Length];
                data.TestPipeline.Normalize(input, pixels);
                var x = tensor(pixels, [1, input.Channels, input.Height, input.Width]).to(device);   // [1, C, H, W]
                var maps = backbone.ClsAttention(x)[0].cpu();                                         // [K, g, g]
                var panels = new List<float[,]>();
                for (int h = 0; h < maps.shape[0]; h++) panels.Add(ToGrid(maps[h]));
                panels.Add(ToGrid(maps.mean([0])));
                string label = data.Test.ClassNames[data.Test.GetLabel(index)];
                string relative = Path.Combine("attention", $"test-{index:D5}.png");
                PngWriter.Write(Path.Combine(runDirectory, relative), AttentionStrip.Build(input, panels));
                artifacts.Add(new Artifact($"attention test {index} ({label})", relative,
                    $"[CLS] attention of the last layer of the {model} teacher on test image {index} (class {label}): input, heads 1-{maps.shape[0]}, mean over heads; each map min-max scaled"));
            }
        }
        finally
        {
            if (wasTraining) module.train();
        }
        return artifacts;
    }

    private static float[,] ToGrid(Tensor map)
    {
        int h = (int)map.shape[0], w = (int)map.shape[1];
        var values = map.contiguous().data<float>().ToArray();   // [g, g] row-major
        var grid = new float[h, w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                grid[y, x] = values[y * w + x];
        return grid;
    }
}

/// <summary>
/// The collapse verdict (DINO §5.3's two failure modes) on the last epoch's training averages: the teacher's
/// distributions uniform (mean entropy at least <see cref="UniformShare"/>·log K) or every image on the same few
/// prototypes (entropy of the mean distribution at most <see cref="DominantShare"/>·log K, which also covers a
/// per-sample entropy near 0 on one shared prototype).
/// </summary>
public static class DinoCollapse
{
    /// <summary>Share of log K above which the mean teacher entropy counts as uniform collapse.</summary>
    public const double UniformShare = 0.95;

    /// <summary>Share of log K below which the entropy of the mean teacher distribution counts as collapse onto one prototype.</summary>
    public const double DominantShare = 0.1;

    /// <summary>Null when healthy, else the reason (for the log and the README).</summary>
    public static string? Check(double teacherEntropy, double marginalEntropy, int outDim)
    {
        double logK = Math.Log(outDim);
        if (!double.IsFinite(teacherEntropy) || !double.IsFinite(marginalEntropy)) return "the teacher entropy is not finite";
        if (teacherEntropy >= UniformShare * logK)
            return FormattableString.Invariant($"uniform collapse: mean teacher entropy {teacherEntropy:F3} nats >= {UniformShare} log K = {UniformShare * logK:F3}");
        if (marginalEntropy <= DominantShare * logK)
            return FormattableString.Invariant($"collapse onto one prototype: entropy of the mean teacher distribution {marginalEntropy:F3} nats <= {DominantShare} log K = {DominantShare * logK:F3}");
        return null;
    }
}
