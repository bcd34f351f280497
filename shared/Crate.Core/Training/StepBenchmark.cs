using Crate.Core.Contract;
using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>
/// One matrix product of a step's forward pass, per micro-batch: <c>[M, K] × [K, N]</c>, done <see cref="Count"/>
/// times. <see cref="Linear"/> marks a product with a weight matrix (a Linear layer, a dictionary, a tied head), as
/// opposed to attention's batched products; <see cref="Backward"/> whether gradients flow through it (a DINO
/// teacher's forward does not), so a step costs the forward once plus twice again for the backward.
/// </summary>
public sealed record GemmShape(string Name, long M, long K, long N, long Count = 1, bool Linear = true, bool Backward = true)
{
    /// <summary>Forward FLOPs: 2 per multiply-add.</summary>
    public double ForwardFlops => 2.0 * M * K * N * Count;

    /// <summary>FLOPs in one training step: the forward, and for a product with a backward pass twice that again (both gradients).</summary>
    public double StepFlops => ForwardFlops * (Backward ? 3 : 1);

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{M}, {K}] x [{K}, {N}]" + (Count > 1 ? $" x{Count}" : "");
}

/// <summary>
/// A task's training step ready to time (<see cref="IStepBenchmark"/>): its modules at one config, the
/// <see cref="TrainingSpec{TBatch}"/> its own run builds (loss, hooks) over synthetic batches of the config's shapes,
/// the recipe (<see cref="Options"/>: optimizer, parameter groups, clipping, accumulation) and the analytic matrix
/// products of one micro-batch's forward (<see cref="Gemms"/>). <see cref="Run"/> drives the real
/// <see cref="Trainer{TBatch}"/>; the benchmark owns and disposes its modules.
/// </summary>
public abstract class StepBenchmark : IDisposable
{
    private readonly IReadOnlyList<IDisposable> _owned;

    /// <summary>Sets the description, recipe, products and the objects disposed with the benchmark.</summary>
    protected StepBenchmark(string description, TrainerOptions options, IReadOnlyList<GemmShape> gemms, long parameters, IReadOnlyList<IDisposable> owned)
    {
        if (gemms.Count == 0 || !gemms.Any(g => g.Linear)) throw new ArgumentException("a step benchmark lists at least one weight product", nameof(gemms));
        (Description, Options, Gemms, Parameters, _owned) = (description, options, gemms, parameters, owned);
    }

    /// <summary>The model and its shape in words.</summary>
    public string Description { get; }

    /// <summary>The task's recipe for this config, as its run hands it to the trainer.</summary>
    public TrainerOptions Options { get; }

    /// <summary>What the throughput counts: "images" (one per sample) or "tokens" (<see cref="UnitsPerSample"/> per sequence).</summary>
    public string Unit { get; private init; } = "images";

    /// <summary>Units of <see cref="Unit"/> in one sample (a language model's context length; 1 for an image).</summary>
    public long UnitsPerSample { get; private init; } = 1;

    /// <summary>The forward pass's matrix products per micro-batch.</summary>
    public IReadOnlyList<GemmShape> Gemms { get; }

    /// <summary>Trainable parameters.</summary>
    public long Parameters { get; }

    /// <summary>Analytic matmul FLOPs of one optimizer step (every micro-batch; element-wise work not counted).</summary>
    public double StepFlops => Options.Accumulation * Gemms.Sum(g => g.StepFlops);

    /// <summary>The weight product with the most FLOPs per call: the shape a matmul reference should be timed at.</summary>
    public GemmShape LargestLinear => Gemms.Where(g => g.Linear).MaxBy(g => (double)g.M * g.K * g.N)!;

    /// <summary>
    /// The recipe for a benchmark of <paramref name="steps"/> optimizer steps at <paramref name="precision"/>: the
    /// task's options with that many steps, no evaluation before the end, no extra or rollback checkpoints and no best model.
    /// </summary>
    public TrainerOptions OptionsFor(int steps, Precision precision) => Options with
    {
        MaxSteps = steps, EvalEverySteps = steps, CheckpointEverySteps = 0, KeepCheckpoints = 1, BestMetric = null,
        NanRetries = 0, Precision = precision,
    };

    /// <summary>Every module of the step (trainable first, then frozen ones such as an EMA teacher), in checkpoint order.</summary>
    public abstract IReadOnlyList<nn.Module> Modules { get; }

    /// <summary>
    /// Micro-batch <paramref name="index"/> of the synthetic data as the trainer receives it on <paramref name="device"/>
    /// (a task's batch record: image views and labels, token windows, masks); the caller disposes its tensors, e.g.
    /// with a dispose scope. For checks of where a step's inputs live.
    /// </summary>
    public abstract object Batch(long index, Device device);

    /// <summary>Trains <paramref name="steps"/> steps in <paramref name="context"/>, calling <paramref name="onStep"/> after each.</summary>
    public TrainingResult Run(int steps, Precision precision, IRunContext context, Action<StepReport> onStep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        return RunTrainer(OptionsFor(steps, precision), context, onStep);
    }

    /// <summary>Builds the trainer over the spec and runs it.</summary>
    protected abstract TrainingResult RunTrainer(TrainerOptions options, IRunContext context, Action<StepReport> onStep);

    /// <summary>
    /// A benchmark over <paramref name="spec"/>; <paramref name="owned"/> (modules, losses) are disposed with it. Its
    /// throughput counts <paramref name="unit"/>, <paramref name="unitsPerSample"/> per sample (tokens of a sequence).
    /// </summary>
    public static StepBenchmark Create<TBatch>(string description, TrainingSpec<TBatch> spec, TrainerOptions options,
        IReadOnlyList<GemmShape> gemms, IReadOnlyList<IDisposable> owned, string unit = "images", long unitsPerSample = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(unitsPerSample, 1);
        return new Typed<TBatch>(description, spec, options, gemms, owned) { Unit = unit, UnitsPerSample = unitsPerSample };
    }

    /// <summary>Disposes the modules.</summary>
    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class Typed<TBatch>(string description, TrainingSpec<TBatch> spec, TrainerOptions options, IReadOnlyList<GemmShape> gemms,
        IReadOnlyList<IDisposable> owned)
        : StepBenchmark(description, options, gemms, spec.Trainable.Sum(m => m.parameters().Where(p => p.requires_grad).Sum(p => p.numel())), owned)
    {
        public override IReadOnlyList<nn.Module> Modules => [.. spec.Trainable, .. spec.Frozen];

        public override object Batch(long index, Device device) => spec.Data.Get(new DataPosition(0, index), device)!;

        protected override TrainingResult RunTrainer(TrainerOptions trainerOptions, IRunContext context, Action<StepReport> onStep)
        {
            var trainer = new Trainer<TBatch>(spec, trainerOptions, context);
            trainer.StepCompleted += onStep;
            return trainer.Run();
        }
    }
}

/// <summary>
/// Synthetic training data for a <see cref="StepBenchmark"/>: micro-batch i is made by <c>make</c> from a CPU generator
/// reseeded with <c>1 + i mod 4</c> (four distinct batches, the same ones on every call) and moved to the device.
/// Made inside the step's dispose scope like a loader's batch; one epoch spans 2⁴⁰ micro-batches, so a benchmark
/// never crosses an epoch boundary (the step of a run's first epoch). One generator serves every call (the trainer
/// asks from one thread); dispose the source with the benchmark.
/// </summary>
public sealed class SyntheticBatches<TBatch>(int microBatch, Func<Generator, Device, TBatch> make) : IBatchSource<TBatch>, IDisposable
{
    private readonly Generator _generator = new(1, CPU);

    /// <inheritdoc />
    public int MicroBatchSize { get; } = microBatch > 0 ? microBatch : throw new ArgumentOutOfRangeException(nameof(microBatch));

    /// <inheritdoc />
    public long BatchesPerEpoch => 1L << 40;

    /// <inheritdoc />
    public TBatch Get(DataPosition position, Device device)
    {
        _generator.manual_seed(1 + position.Index % 4);
        return make(_generator, device);
    }

    /// <inheritdoc />
    public void Dispose() => _generator.Dispose();
}
