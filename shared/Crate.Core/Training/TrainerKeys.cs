using Crate.Core.Contract;

namespace Crate.Core.Training;

/// <summary>
/// The recipe keys of one training phase under one prefix: <c>train.lr</c>, <c>train.batch_size</c>, ... for the
/// first (or only) phase, <c>finetune.lr</c>, ... for a later one (<see cref="TrainerKeys.For"/>). Every set has the
/// same keys, types, bounds and defaults, so a later phase is validated by the schema exactly as <c>train.*</c>.
/// A task adds <see cref="All"/> to its schema and overrides defaults in its presets;
/// <see cref="TrainerOptions.FromConfig"/> reads them back.
/// </summary>
public sealed class TrainerKeySet
{
    internal TrainerKeySet(string prefix)
    {
        Prefix = prefix;
        string P(string name) => prefix + "." + name;
        Optimizer = Key.Choice(P("optimizer"), "adamw", "optimizer", "adamw", "lion");
        LearningRate = Key.Float(P("lr"), 1e-3, "peak learning rate (after warm-up)", 0, 10);
        MinLearningRate = Key.Float(P("min_lr"), 0, "final learning rate of the cosine decay", 0, 10);
        WarmupSteps = Key.Int(P("warmup_steps"), 0, "linear warm-up in optimizer steps", 0);
        WarmupEpochs = Key.Float(P("warmup_epochs"), 0, "linear warm-up in epochs (overrides warmup_steps when > 0)", 0);
        WeightDecay = Key.Float(P("weight_decay"), 0.05, "decoupled weight decay of tensors with >= 2 dims", 0, 10);
        WeightDecayEnd = Key.Float(P("weight_decay_end"), -1, "final weight decay of a cosine schedule (negative: constant)", -1, 10);
        Beta1 = Key.Float(P("beta1"), 0.9, "beta1 of AdamW / Lion", 0, 0.999999);
        Beta2 = Key.Float(P("beta2"), 0, "beta2 (0: AdamW 0.999, Lion 0.99)", 0, 0.999999);
        Eps = Key.Float(P("eps"), 1e-8, "AdamW epsilon", 0, 1);
        GradClip = Key.Float(P("grad_clip"), 0, "global gradient-norm clip (0: off)", 0);
        BatchSize = Key.Int(P("batch_size"), 32, "effective batch: samples per optimizer step", 1);
        MicroBatchSize = Key.Int(P("micro_batch"), 0, "samples per forward pass; must divide batch_size (0: batch_size)", 0);
        Epochs = Key.Int(P("epochs"), 1, "training epochs", 1);
        MaxSteps = Key.Int(P("max_steps"), 0, "total optimizer steps (overrides epochs when > 0)", 0);
        EvalEverySteps = Key.Int(P("eval_every"), 0, "evaluate every N steps (0: each epoch end)", 0);
        CheckpointEverySteps = Key.Int(P("checkpoint_every"), 0, "extra checkpoint every N steps (0: at evaluations)", 0);
        LayerDecay = Key.Float(P("layer_decay"), 1, "layer-wise learning-rate decay: block i of L trains at lr·decay^(L+1−layer) (1: off; needs a task that maps parameters to layers)", 0, 1);
        NanRetries = Key.Int(P("nan_retries"), 0, "after a NaN/Inf loss, roll back to the last good checkpoint and halve the learning rate, at most this many times (0: stop at once)", 0, 100);
        Precision = Key.Choice(P("precision"), "fp32", "compute precision: fp32, or bf16 (matmuls, and attention on a GPU, in bfloat16; " +
            "weights, optimizer state, norms, softmax statistics and the loss in float32)", "fp32", "bf16").OmittedAtDefault();
        All =
        [
            Optimizer, LearningRate, MinLearningRate, WarmupSteps, WarmupEpochs, WeightDecay, WeightDecayEnd, Beta1, Beta2,
            Eps, GradClip, BatchSize, MicroBatchSize, Epochs, MaxSteps, EvalEverySteps, CheckpointEverySteps, Precision,
        ];
    }

    /// <summary>The prefix, e.g. <c>train</c> or <c>finetune</c>.</summary>
    public string Prefix { get; }
    /// <summary><c>{prefix}.optimizer</c>: adamw or lion.</summary>
    public ConfigKey<string> Optimizer { get; }
    /// <summary><c>{prefix}.lr</c>: peak learning rate.</summary>
    public ConfigKey<double> LearningRate { get; }
    /// <summary><c>{prefix}.min_lr</c>: learning rate at the end of the cosine.</summary>
    public ConfigKey<double> MinLearningRate { get; }
    /// <summary><c>{prefix}.warmup_steps</c>.</summary>
    public ConfigKey<long> WarmupSteps { get; }
    /// <summary><c>{prefix}.warmup_epochs</c>: overrides warmup_steps when > 0.</summary>
    public ConfigKey<double> WarmupEpochs { get; }
    /// <summary><c>{prefix}.weight_decay</c>.</summary>
    public ConfigKey<double> WeightDecay { get; }
    /// <summary><c>{prefix}.weight_decay_end</c>: cosine weight-decay schedule target (negative: constant).</summary>
    public ConfigKey<double> WeightDecayEnd { get; }
    /// <summary><c>{prefix}.beta1</c>.</summary>
    public ConfigKey<double> Beta1 { get; }
    /// <summary><c>{prefix}.beta2</c>: 0 selects the optimizer's default (AdamW 0.999, Lion 0.99).</summary>
    public ConfigKey<double> Beta2 { get; }
    /// <summary><c>{prefix}.eps</c>.</summary>
    public ConfigKey<double> Eps { get; }
    /// <summary><c>{prefix}.grad_clip</c>: 0 = off.</summary>
    public ConfigKey<double> GradClip { get; }
    /// <summary><c>{prefix}.batch_size</c>: effective batch (part of the recipe).</summary>
    public ConfigKey<long> BatchSize { get; }
    /// <summary><c>{prefix}.micro_batch</c>: 0 = the whole batch at once.</summary>
    public ConfigKey<long> MicroBatchSize { get; }
    /// <summary><c>{prefix}.epochs</c>.</summary>
    public ConfigKey<long> Epochs { get; }
    /// <summary><c>{prefix}.max_steps</c>: overrides epochs when > 0.</summary>
    public ConfigKey<long> MaxSteps { get; }
    /// <summary><c>{prefix}.eval_every</c>: 0 = at the end of each epoch.</summary>
    public ConfigKey<long> EvalEverySteps { get; }
    /// <summary><c>{prefix}.checkpoint_every</c>: 0 = at evaluations only.</summary>
    public ConfigKey<long> CheckpointEverySteps { get; }
    /// <summary>
    /// <c>{prefix}.layer_decay</c>: layer-wise learning-rate decay (MAE/BEiT fine-tuning); 1 = off. Not in
    /// <see cref="All"/> (a key in the schema is part of every run key): a task whose phase maps parameters to
    /// layers adds it to its schema and sets <see cref="TrainerOptions.ParameterScales"/>.
    /// </summary>
    public ConfigKey<double> LayerDecay { get; }

    /// <summary>
    /// <c>{prefix}.nan_retries</c>: rollbacks after a non-finite loss (<see cref="TrainerOptions.NanRetries"/>); 0 = stop
    /// at once. Not in <see cref="All"/> for the same reason as <see cref="LayerDecay"/>: adding a key to every schema
    /// would change every run key. A task adds it to its schema to offer it.
    /// </summary>
    public ConfigKey<long> NanRetries { get; }

    /// <summary>
    /// <c>{prefix}.precision</c>: fp32 or bf16 (<see cref="TrainerOptions.Precision"/>). In <see cref="All"/>, but
    /// <see cref="ConfigKey.OmitAtDefault"/>: at fp32 it is left out of the run key, so runs from before the key
    /// existed keep their keys, while bf16 runs get keys (and results) of their own.
    /// </summary>
    public ConfigKey<string> Precision { get; }

    /// <summary>Every key above but <see cref="LayerDecay"/> and <see cref="NanRetries"/>, for the task's schema.</summary>
    public IReadOnlyList<ConfigKey> All { get; }
}

/// <summary>
/// The recipe keys every task shares: <see cref="Train"/> (<c>train.*</c>) for the first or only phase of a
/// run, <see cref="For"/> for a later phase's own prefix. The static members are those of <see cref="Train"/>.
/// </summary>
public static class TrainerKeys
{
    /// <summary>The <c>train.*</c> keys.</summary>
    public static TrainerKeySet Train { get; } = new("train");

    /// <summary>
    /// The same keys under <paramref name="prefix"/> (e.g. <c>finetune</c>): lower-case letters, digits and
    /// underscores, starting with a letter.
    /// </summary>
    public static TrainerKeySet For(string prefix)
    {
        if (prefix == Train.Prefix) return Train;
        if (prefix.Length == 0 || !char.IsAsciiLetterLower(prefix[0]) || !prefix.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            throw new ArgumentException($"recipe key prefix '{prefix}' must be lower-case letters, digits and '_', starting with a letter", nameof(prefix));
        return new TrainerKeySet(prefix);
    }

    /// <summary><c>train.optimizer</c>.</summary>
    public static ConfigKey<string> Optimizer => Train.Optimizer;
    /// <summary><c>train.lr</c>.</summary>
    public static ConfigKey<double> LearningRate => Train.LearningRate;
    /// <summary><c>train.batch_size</c>.</summary>
    public static ConfigKey<long> BatchSize => Train.BatchSize;
    /// <summary><c>train.micro_batch</c>.</summary>
    public static ConfigKey<long> MicroBatchSize => Train.MicroBatchSize;
    /// <summary><c>train.epochs</c>.</summary>
    public static ConfigKey<long> Epochs => Train.Epochs;
    /// <summary><c>train.max_steps</c>.</summary>
    public static ConfigKey<long> MaxSteps => Train.MaxSteps;
    /// <summary><c>train.eval_every</c>.</summary>
    public static ConfigKey<long> EvalEverySteps => Train.EvalEverySteps;

    /// <summary>Every <c>train.*</c> key.</summary>
    public static IReadOnlyList<ConfigKey> All => Train.All;
}
