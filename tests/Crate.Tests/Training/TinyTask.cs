using Crate.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Crate.Tests.Training;

/// <summary>A two-layer MLP classifier with dropout: small enough for exact-resume tests on the CPU.</summary>
public sealed class TinyClassifier : Module<Tensor, Tensor>
{
    private readonly Linear fc1, fc2;
    private readonly Dropout drop;

    public TinyClassifier(int inputs = 6, int hidden = 16, int classes = 3, double dropout = 0.1) : base("tiny")
    {
        fc1 = Linear(inputs, hidden);
        drop = Dropout(dropout);
        fc2 = Linear(hidden, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => fc2.forward(drop.forward(functional.relu(fc1.forward(x))));   // [B, classes]
}

/// <summary>One micro-batch of <see cref="SyntheticClassification"/>.</summary>
public sealed record TinyBatch(Tensor X, Tensor Y);

/// <summary>
/// A fixed synthetic classification set: x ~ N(0, 1) in 6 dims, label = argmax of a fixed projection.
/// Shuffled per epoch with <see cref="TrainingSeeds.EpochPermutation"/> and jittered with the managed
/// per-batch generator, as a real source would do augmentation.
/// </summary>
public sealed class SyntheticClassification : IBatchSource<TinyBatch>
{
    private readonly float[][] _x;
    private readonly long[] _y;
    private readonly TrainingSeeds _seeds;
    private readonly bool _jitter;

    public SyntheticClassification(int samples, int microBatch, TrainingSeeds seeds, bool jitter = true, int dims = 6)
    {
        var rng = new DeterministicRng(12345);
        var projection = Enumerable.Range(0, 3 * dims).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        _x = new float[samples][];
        _y = new long[samples];
        for (int i = 0; i < samples; i++)
        {
            _x[i] = Enumerable.Range(0, dims).Select(_ => (float)Gaussian(rng)).ToArray();
            var scores = Enumerable.Range(0, 3).Select(c => Enumerable.Range(0, dims).Sum(d => projection[c * dims + d] * _x[i][d])).ToList();
            _y[i] = scores.IndexOf(scores.Max());
        }
        (MicroBatchSize, _seeds, _jitter) = (microBatch, seeds, jitter);
    }

    public int MicroBatchSize { get; }
    public long BatchesPerEpoch => _x.Length / MicroBatchSize;
    public int Dims => _x[0].Length;

    public TinyBatch Get(DataPosition position, Device device)
    {
        var order = _seeds.EpochPermutation(position.Epoch, _x.Length);
        var rng = _seeds.ForBatch(position.Epoch, position.Index);
        var xs = new float[MicroBatchSize * Dims];
        var ys = new long[MicroBatchSize];
        for (int b = 0; b < MicroBatchSize; b++)
        {
            int i = order[position.Index * MicroBatchSize + b];
            for (int d = 0; d < Dims; d++) xs[b * Dims + d] = _x[i][d] + (_jitter ? (float)(0.05 * (rng.NextDouble() - 0.5)) : 0);
            ys[b] = _y[i];
        }
        return new TinyBatch(tensor(xs, [MicroBatchSize, Dims]).to(device), tensor(ys).to(device));
    }

    /// <summary>Every sample in a fixed order, for evaluation.</summary>
    public TinyBatch All(Device device)
    {
        var xs = _x.SelectMany(r => r).ToArray();
        return new TinyBatch(tensor(xs, [_x.Length, Dims]).to(device), tensor(_y).to(device));
    }

    private static double Gaussian(DeterministicRng rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

/// <summary>Builds the tiny task the trainer tests share: model, data, a masked loss and an evaluation.</summary>
public static class TinyTask
{
    public static TinyClassifier Model(int seed, double dropout = 0.1)
    {
        torch.manual_seed(TrainingSeeds.From(seed).Init);
        return new TinyClassifier(dropout: dropout);
    }

    /// <summary>Cross-entropy on inputs with 10% of the features masked by the step's generator (exercises it).</summary>
    public static Tensor MaskedLoss(TinyClassifier model, TinyBatch batch, StepContext ctx)
    {
        var keep = torch.rand(batch.X.shape, generator: ctx.Generator, device: ctx.Device).ge(0.1);   // [B, dims]
        return Losses.CrossEntropy(model.forward(batch.X * keep), batch.Y, smoothing: 0.1);
    }

    public static TrainingSpec<TinyBatch> Spec(TinyClassifier model, SyntheticClassification data) =>
        TrainingSpec.ForModel(model, data, (b, ctx) => MaskedLoss(model, b, ctx), ctx =>
        {
            var metrics = new MetricMeans();
            var all = data.All(ctx.Device);
            long n = all.Y.shape[0], chunk = 16;
            ctx.ForEachBatch((n + chunk - 1) / chunk, i =>
            {
                long start = i * chunk, len = Math.Min(chunk, n - start);
                var logits = model.forward(all.X.narrow(0, start, len));                       // [len, classes]
                var y = all.Y.narrow(0, start, len);                                            // [len]
                metrics.Add("val_loss", Losses.CrossEntropy(logits, y).ToDouble(), len);
                metrics.Add("val_acc", logits.argmax(-1).eq(y).to(float64).mean().ToDouble(), len);
            });
            return metrics.Means();
        });

    /// <summary>Every parameter and buffer of <paramref name="module"/> as flat doubles, by name.</summary>
    public static Dictionary<string, double[]> Snapshot(nn.Module module)
    {
        using var scope = NewDisposeScope();
        return module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(float64).data<double>().ToArray());
    }
}
