using Crate.Core.Contract;

namespace Crate.Core.Training;

/// <summary>Thrown when trainer options, a task's spec or a checkpoint do not fit together; the message says which and why.</summary>
public sealed class TrainerConfigException(string message) : Exception(message);

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
    }

    /// <summary>
    /// Reads the recipe from the keys of <see cref="TrainerKeys"/> in <paramref name="config"/> (include
    /// <see cref="TrainerKeys.All"/> in the task's schema). Keys the schema lacks keep this record's defaults.
    /// </summary>
    public static TrainerOptions FromConfig(ResolvedConfig config)
    {
        T Or<T>(ConfigKey<T> key, T fallback) where T : notnull =>
            config.Values.ContainsKey(key.Name) ? config.Get(key) : fallback;
        var d = new TrainerOptions();
        long micro = Or(TrainerKeys.MicroBatchSize, 0L), maxSteps = Or(TrainerKeys.MaxSteps, 0L);
        double warmupEpochs = Or(TrainerKeys.WarmupEpochs, 0.0), beta2 = Or(TrainerKeys.Beta2, 0.0);
        double wdEnd = Or(TrainerKeys.WeightDecayEnd, -1.0);
        return d with
        {
            Optimizer = Or(TrainerKeys.Optimizer, "adamw") == "lion" ? OptimizerKind.Lion : OptimizerKind.AdamW,
            LearningRate = Or(TrainerKeys.LearningRate, d.LearningRate),
            MinLearningRate = Or(TrainerKeys.MinLearningRate, d.MinLearningRate),
            WarmupSteps = Or(TrainerKeys.WarmupSteps, d.WarmupSteps),
            WarmupEpochs = warmupEpochs > 0 ? warmupEpochs : null,
            WeightDecay = Or(TrainerKeys.WeightDecay, d.WeightDecay),
            WeightDecayEnd = wdEnd >= 0 ? wdEnd : null,
            Beta1 = Or(TrainerKeys.Beta1, d.Beta1),
            Beta2 = beta2 > 0 ? beta2 : null,
            Eps = Or(TrainerKeys.Eps, d.Eps),
            GradClip = Or(TrainerKeys.GradClip, d.GradClip),
            BatchSize = checked((int)Or(TrainerKeys.BatchSize, (long)d.BatchSize)),
            MicroBatchSize = micro > 0 ? checked((int)micro) : null,
            Epochs = checked((int)Or(TrainerKeys.Epochs, (long)d.Epochs)),
            MaxSteps = maxSteps > 0 ? maxSteps : null,
            EvalEverySteps = Or(TrainerKeys.EvalEverySteps, d.EvalEverySteps),
            CheckpointEverySteps = Or(TrainerKeys.CheckpointEverySteps, d.CheckpointEverySteps),
        };
    }
}

/// <summary>
/// The standard <c>train.*</c> config keys every task shares. A task adds <see cref="All"/> to its schema and
/// overrides defaults in its presets; <see cref="TrainerOptions.FromConfig"/> reads them back.
/// </summary>
public static class TrainerKeys
{
    /// <summary><c>train.optimizer</c>: adamw or lion.</summary>
    public static readonly ConfigKey<string> Optimizer = Key.Choice("train.optimizer", "adamw", "optimizer", "adamw", "lion");
    /// <summary><c>train.lr</c>: peak learning rate.</summary>
    public static readonly ConfigKey<double> LearningRate = Key.Float("train.lr", 1e-3, "peak learning rate (after warm-up)", 0, 10);
    /// <summary><c>train.min_lr</c>: learning rate at the end of the cosine.</summary>
    public static readonly ConfigKey<double> MinLearningRate = Key.Float("train.min_lr", 0, "final learning rate of the cosine decay", 0, 10);
    /// <summary><c>train.warmup_steps</c>.</summary>
    public static readonly ConfigKey<long> WarmupSteps = Key.Int("train.warmup_steps", 0, "linear warm-up in optimizer steps", 0);
    /// <summary><c>train.warmup_epochs</c>: overrides warmup_steps when > 0.</summary>
    public static readonly ConfigKey<double> WarmupEpochs = Key.Float("train.warmup_epochs", 0, "linear warm-up in epochs (overrides warmup_steps when > 0)", 0);
    /// <summary><c>train.weight_decay</c>.</summary>
    public static readonly ConfigKey<double> WeightDecay = Key.Float("train.weight_decay", 0.05, "decoupled weight decay of tensors with >= 2 dims", 0, 10);
    /// <summary><c>train.weight_decay_end</c>: cosine weight-decay schedule target (negative: constant).</summary>
    public static readonly ConfigKey<double> WeightDecayEnd = Key.Float("train.weight_decay_end", -1, "final weight decay of a cosine schedule (negative: constant)", -1, 10);
    /// <summary><c>train.beta1</c>.</summary>
    public static readonly ConfigKey<double> Beta1 = Key.Float("train.beta1", 0.9, "beta1 of AdamW / Lion", 0, 0.999999);
    /// <summary><c>train.beta2</c>: 0 selects the optimizer's default (AdamW 0.999, Lion 0.99).</summary>
    public static readonly ConfigKey<double> Beta2 = Key.Float("train.beta2", 0, "beta2 (0: AdamW 0.999, Lion 0.99)", 0, 0.999999);
    /// <summary><c>train.eps</c>.</summary>
    public static readonly ConfigKey<double> Eps = Key.Float("train.eps", 1e-8, "AdamW epsilon", 0, 1);
    /// <summary><c>train.grad_clip</c>: 0 = off.</summary>
    public static readonly ConfigKey<double> GradClip = Key.Float("train.grad_clip", 0, "global gradient-norm clip (0: off)", 0);
    /// <summary><c>train.batch_size</c>: effective batch (part of the recipe).</summary>
    public static readonly ConfigKey<long> BatchSize = Key.Int("train.batch_size", 32, "effective batch: samples per optimizer step", 1);
    /// <summary><c>train.micro_batch</c>: 0 = the whole batch at once.</summary>
    public static readonly ConfigKey<long> MicroBatchSize = Key.Int("train.micro_batch", 0, "samples per forward pass; must divide batch_size (0: batch_size)", 0);
    /// <summary><c>train.epochs</c>.</summary>
    public static readonly ConfigKey<long> Epochs = Key.Int("train.epochs", 1, "training epochs", 1);
    /// <summary><c>train.max_steps</c>: overrides epochs when > 0.</summary>
    public static readonly ConfigKey<long> MaxSteps = Key.Int("train.max_steps", 0, "total optimizer steps (overrides epochs when > 0)", 0);
    /// <summary><c>train.eval_every</c>: 0 = at the end of each epoch.</summary>
    public static readonly ConfigKey<long> EvalEverySteps = Key.Int("train.eval_every", 0, "evaluate every N steps (0: each epoch end)", 0);
    /// <summary><c>train.checkpoint_every</c>: 0 = at evaluations only.</summary>
    public static readonly ConfigKey<long> CheckpointEverySteps = Key.Int("train.checkpoint_every", 0, "extra checkpoint every N steps (0: at evaluations)", 0);

    /// <summary>Every key above.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        Optimizer, LearningRate, MinLearningRate, WarmupSteps, WarmupEpochs, WeightDecay, WeightDecayEnd, Beta1, Beta2,
        Eps, GradClip, BatchSize, MicroBatchSize, Epochs, MaxSteps, EvalEverySteps, CheckpointEverySteps,
    ];
}
