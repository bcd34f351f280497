using Crate.Core.Contract;

namespace Crate.Core.Training;

/// <summary>Thrown when trainer options, a task's spec or a checkpoint do not fit together; the message says which and why.</summary>
public sealed class TrainerConfigException(string message) : ConfigException(message);

/// <summary>
/// The training recipe. The effective batch (<see cref="BatchSize"/>) is part of the recipe; the micro-batch
/// is a memory/speed knob: accumulation = BatchSize / MicroBatchSize steps of gradient accumulation give the
/// same update (within float rounding) for any micro-batch that divides the batch.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>AdamW or Lion.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>Peak learning rate (reached at the end of warm-up).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public double MinLearningRate { get; init; }

    /// <summary>Linear warm-up length in optimizer steps (ignored when <see cref="WarmupEpochs"/> is set).</summary>
    public long WarmupSteps { get; init; }

    /// <summary>Warm-up length in epochs, converted with the steps per epoch (e.g. the paper's 5 of 150).</summary>
    public double? WarmupEpochs { get; init; }

    /// <summary>Decoupled weight decay of the decayed group.</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>When set, the weight decay follows a cosine from <see cref="WeightDecay"/> to this value (DINO).</summary>
    public double? WeightDecayEnd { get; init; }

    /// <summary>β₁ (both optimizers).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β₂; null: 0.999 for AdamW, 0.99 for Lion (lion_pytorch's default).</summary>
    public double? Beta2 { get; init; }

    /// <summary>AdamW's ε.</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>Global gradient-norm clip; 0 turns clipping off (the norm is still measured and reported).</summary>
    public double GradClip { get; init; }

    /// <summary>Effective batch: samples per optimizer step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Samples per forward/backward pass; null: the whole batch. Must divide <see cref="BatchSize"/>.</summary>
    public int? MicroBatchSize { get; init; }

    /// <summary>Number of epochs (ignored when <see cref="MaxSteps"/> is set).</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Total optimizer steps for step-based recipes (nanoGPT); null: epochs × steps per epoch.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Evaluate (and write an epoch row) every this many steps; 0: only at the end of each epoch.</summary>
    public long EvalEverySteps { get; init; }

    /// <summary>Extra checkpoints every this many steps; 0: only at evaluations, on cancel and at the end.</summary>
    public long CheckpointEverySteps { get; init; }

    /// <summary>Number of most recent checkpoints kept (at least 1).</summary>
    public int KeepCheckpoints { get; init; } = 2;

    /// <summary>Evaluation metric that selects the best model (saved to <c>best/</c>); null: none.</summary>
    public string? BestMetric { get; init; }

    /// <summary>Whether a higher <see cref="BestMetric"/> is better.</summary>
    public bool HigherIsBetter { get; init; } = true;

    /// <summary><c>auto</c>, <c>cpu</c> or <c>cuda</c>; null: the run context's device.</summary>
    public string? Device { get; init; }

    /// <summary>Which parameters are weight-decayed; null: <see cref="ParameterGroups.DecayMatricesOnly"/>.</summary>
    public Func<string, TorchSharp.Modules.Parameter, bool>? DecayFilter { get; init; }

    /// <summary>
    /// Learning-rate and weight-decay multipliers per parameter (state_dict name without the module prefix),
    /// e.g. <see cref="ParameterScale.LayerDecay"/>; null: 1 for every parameter. Parameters with equal
    /// multipliers share an optimizer group.
    /// </summary>
    public Func<string, TorchSharp.Modules.Parameter, ParameterScale>? ParameterScales { get; init; }

    /// <summary>The layer-wise decay read from <c>{prefix}.layer_decay</c> (1: off); the task turns it into <see cref="ParameterScales"/>.</summary>
    public double LayerDecay { get; init; } = 1;

    /// <summary>
    /// Rollbacks allowed after a non-finite loss or gradient norm (<c>{prefix}.nan_retries</c>); 0: the run stops at
    /// once. Each one reloads the last good checkpoint (a fresh run writes one at step 0 for this) and goes on with
    /// the learning rate halved; the rollbacks are logged, listed in <see cref="TrainingResult.NanRetries"/> and
    /// counted in every later row (<c>nan_retries</c>, <c>lr_scale</c>).
    /// </summary>
    public int NanRetries { get; init; }

    /// <summary>
    /// Compute precision of the step (<c>{prefix}.precision</c>): <see cref="Precision.Fp32"/>, or
    /// <see cref="Precision.Bf16"/> (matmuls and attention in bfloat16; weights, optimizer state, norms, softmax
    /// statistics and the loss in float32).
    /// </summary>
    public Precision Precision { get; init; } = Precision.Fp32;

    /// <summary>The micro-batch size in effect.</summary>
    public int EffectiveMicroBatch => MicroBatchSize ?? BatchSize;

    /// <summary>Micro-batches per optimizer step.</summary>
    public int Accumulation => BatchSize / EffectiveMicroBatch;

    /// <summary>β₂ in effect for <see cref="Optimizer"/>.</summary>
    public double EffectiveBeta2 => Beta2 ?? (Optimizer == OptimizerKind.Lion ? 0.99 : 0.999);

    /// <summary>Throws a <see cref="TrainerConfigException"/> naming the first inconsistent option.</summary>
    public void Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new TrainerConfigException(message); }
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"learning rate must be a positive number, not {LearningRate}");
        Require(MinLearningRate >= 0 && MinLearningRate <= LearningRate, $"min learning rate {MinLearningRate} must be in [0, lr = {LearningRate}]");
        Require(WarmupSteps >= 0 && (WarmupEpochs ?? 0) >= 0, "warm-up must not be negative");
        Require(WeightDecay >= 0 && (WeightDecayEnd ?? 0) >= 0, "weight decay must not be negative");
        Require(Beta1 is >= 0 and < 1 && EffectiveBeta2 is >= 0 and < 1, $"betas must be in [0, 1), not ({Beta1}, {EffectiveBeta2})");
        Require(GradClip >= 0, $"gradient clip must be >= 0 (0 = off), not {GradClip}");
        Require(BatchSize >= 1 && EffectiveMicroBatch >= 1, "batch and micro-batch sizes must be >= 1");
        Require(BatchSize % EffectiveMicroBatch == 0,
            $"micro-batch {EffectiveMicroBatch} must divide the batch {BatchSize} (accumulation = batch / micro-batch)");
        Require(Epochs >= 1 || MaxSteps is > 0, "train for at least one epoch or a positive number of steps");
        Require(MaxSteps is null or > 0, $"max steps must be positive, not {MaxSteps}");
        Require(EvalEverySteps >= 0 && CheckpointEverySteps >= 0, "eval and checkpoint intervals must be >= 0");
        Require(KeepCheckpoints >= 1, "keep at least one checkpoint");
        Require(Enum.IsDefined(Precision), $"precision must be fp32 or bf16, not {Precision}");
        Require(NanRetries >= 0, $"nan retries must be >= 0, not {NanRetries}");
        Require(LayerDecay is > 0 and <= 1, $"layer decay must be in (0, 1], not {LayerDecay}");
        Require(LayerDecay == 1 || ParameterScales is not null,
            $"layer decay {LayerDecay} is set but the task maps no parameter to a layer (TrainerOptions.ParameterScales)");
    }

    /// <summary>
    /// Reads the recipe of one phase from its keys in <paramref name="config"/>: <paramref name="keys"/> (default
    /// <see cref="TrainerKeys.Train"/>, the <c>train.*</c> keys; <c>TrainerKeys.For("finetune")</c> for a later
    /// phase's <c>finetune.*</c>). Include the key set's <see cref="TrainerKeySet.All"/> in the task's schema;
    /// keys the schema lacks keep this record's defaults.
    /// </summary>
    public static TrainerOptions FromConfig(ResolvedConfig config, TrainerKeySet? keys = null)
    {
        var k = keys ?? TrainerKeys.Train;
        T Or<T>(ConfigKey<T> key, T fallback) where T : notnull =>
            config.Values.ContainsKey(key.Name) ? config.Get(key) : fallback;
        var d = new TrainerOptions();
        long micro = Or(k.MicroBatchSize, 0L), maxSteps = Or(k.MaxSteps, 0L);
        double warmupEpochs = Or(k.WarmupEpochs, 0.0), beta2 = Or(k.Beta2, 0.0);
        double wdEnd = Or(k.WeightDecayEnd, -1.0);
        return d with
        {
            Optimizer = Or(k.Optimizer, "adamw") == "lion" ? OptimizerKind.Lion : OptimizerKind.AdamW,
            LearningRate = Or(k.LearningRate, d.LearningRate),
            MinLearningRate = Or(k.MinLearningRate, d.MinLearningRate),
            WarmupSteps = Or(k.WarmupSteps, d.WarmupSteps),
            WarmupEpochs = warmupEpochs > 0 ? warmupEpochs : null,
            WeightDecay = Or(k.WeightDecay, d.WeightDecay),
            WeightDecayEnd = wdEnd >= 0 ? wdEnd : null,
            Beta1 = Or(k.Beta1, d.Beta1),
            Beta2 = beta2 > 0 ? beta2 : null,
            Eps = Or(k.Eps, d.Eps),
            GradClip = Or(k.GradClip, d.GradClip),
            BatchSize = checked((int)Or(k.BatchSize, (long)d.BatchSize)),
            MicroBatchSize = micro > 0 ? checked((int)micro) : null,
            Epochs = checked((int)Or(k.Epochs, (long)d.Epochs)),
            MaxSteps = maxSteps > 0 ? maxSteps : null,
            EvalEverySteps = Or(k.EvalEverySteps, d.EvalEverySteps),
            CheckpointEverySteps = Or(k.CheckpointEverySteps, d.CheckpointEverySteps),
            LayerDecay = Or(k.LayerDecay, d.LayerDecay),
            NanRetries = checked((int)Or(k.NanRetries, (long)d.NanRetries)),
            Precision = Or(k.Precision, "fp32") == "bf16" ? Precision.Bf16 : Precision.Fp32,
        };
    }
}
