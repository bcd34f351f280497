using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>What the loss function and the after-step hook know about the step being taken.</summary>
public sealed class StepContext
{
    internal StepContext(Device device, Generator generator, long totalSteps)
    {
        Device = device; Generator = generator; TotalSteps = totalSteps;
    }

    /// <summary>Optimizer step being taken, 0-based.</summary>
    public long Step { get; internal set; }

    /// <summary>Number of optimizer steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>Micro-batch within the step, 0 … accumulation − 1.</summary>
    public int MicroBatch { get; internal set; }

    /// <summary>Data position of the current micro-batch.</summary>
    public DataPosition Position { get; internal set; }

    /// <summary>Learning rate of this step.</summary>
    public double LearningRate { get; internal set; }

    /// <summary>Device of the model and batches.</summary>
    public Device Device { get; }

    /// <summary>
    /// A generator on <see cref="Device"/>, re-seeded for every micro-batch from
    /// <see cref="TrainingSeeds.Masking"/>, step and micro-batch: use it for masks and noise
    /// (<c>torch.rand(..., generator: ctx.Generator)</c>).
    /// </summary>
    public Generator Generator { get; }

    private readonly Dictionary<string, (double Sum, int Count)> _metrics = new(StringComparer.Ordinal);

    /// <summary>
    /// Records an auxiliary training metric of the current micro-batch (e.g. <c>mlm_acc</c>, <c>teacher_entropy</c>).
    /// Values recorded within one step are averaged; the per-step means are averaged over the evaluation interval
    /// and written to the epoch row as <c>train_&lt;name&gt;</c>. Checkpoints carry the partial sums.
    /// </summary>
    public void Record(string name, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _metrics.TryGetValue(name, out var s);
        _metrics[name] = (s.Sum + value, s.Count + 1);
    }

    /// <summary>Records a scalar tensor's value (<see cref="Record(string, double)"/>); reading it waits for the device.</summary>
    public void Record(string name, Tensor scalar) => Record(name, scalar.ToDouble());

    internal void BeginStep() => _metrics.Clear();

    internal IEnumerable<KeyValuePair<string, double>> StepMetrics() =>
        _metrics.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Sum / kv.Value.Count));
}

/// <summary>
/// Handed to the evaluation callback. The trainer has put every module in eval mode, disabled autograd,
/// seeded torch's default generator from <see cref="TrainingSeeds.Eval"/> and opened a dispose scope for
/// the whole evaluation; <see cref="ForEachBatch"/> adds one scope per batch.
/// </summary>
public sealed class EvalContext
{
    internal EvalContext(Device device, long step, int epoch, CancellationToken cancellation)
    {
        Device = device; Step = step; Epoch = epoch; Cancellation = cancellation;
    }

    /// <summary>Device of the model.</summary>
    public Device Device { get; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long Step { get; }

    /// <summary>The 1-based epoch the evaluation belongs to.</summary>
    public int Epoch { get; }

    /// <summary>Cancelled on Ctrl-C; a long evaluation may stop early by throwing <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Runs <paramref name="body"/> for batches 0 … count − 1, each inside its own dispose scope.</summary>
    public void ForEachBatch(long count, Action<long> body)
    {
        for (long i = 0; i < count; i++)
        {
            Cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            body(i);
        }
    }
}

/// <summary>Running weighted means of named metrics, for evaluation loops.</summary>
public sealed class MetricMeans
{
    private readonly SortedDictionary<string, (double Sum, double Weight)> _sums = new(StringComparer.Ordinal);

    /// <summary>Adds <paramref name="value"/> with <paramref name="weight"/> (e.g. a batch mean weighted by its size).</summary>
    public void Add(string name, double value, double weight = 1)
    {
        _sums.TryGetValue(name, out var s);
        _sums[name] = (s.Sum + value * weight, s.Weight + weight);
    }

    /// <summary>The weighted mean of every metric added.</summary>
    public Dictionary<string, double> Means() =>
        _sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Weight, StringComparer.Ordinal);
}
