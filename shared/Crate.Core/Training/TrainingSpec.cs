using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>
/// What a task hands the <see cref="Trainer{TBatch}"/>: its modules, its data, its loss and its evaluation.
/// Any state a hook keeps across steps (a DINO centre, an EMA teacher) must live in the parameters or
/// buffers of a listed module, so that checkpoints carry it.
/// </summary>
/// <typeparam name="TBatch">The micro-batch type produced by <see cref="Data"/>.</typeparam>
public sealed class TrainingSpec<TBatch>
{
    /// <summary>Modules whose parameters are optimised (the model; the student for DINO).</summary>
    public required IReadOnlyList<nn.Module> Trainable { get; init; }

    /// <summary>Modules saved and restored but never optimised (an EMA teacher); their parameters are frozen.</summary>
    public IReadOnlyList<nn.Module> Frozen { get; init; } = [];

    /// <summary>Training micro-batches as a function of the data position.</summary>
    public required IBatchSource<TBatch> Data { get; init; }

    /// <summary>
    /// The scalar loss of one micro-batch (mean over its samples), computed inside the step's dispose scope
    /// with the trainable modules in train mode. The trainer divides it by the accumulation count. Auxiliary
    /// numbers (masked-token accuracy, a teacher's entropy) go to <see cref="StepContext.Record(string, double)"/>.
    /// </summary>
    public required Func<TBatch, StepContext, Tensor> Loss { get; init; }

    /// <summary>
    /// Called in every step after the backward passes and gradient clipping, just before the optimizer update,
    /// with the gradients in place (e.g. DINO zeroes the last layer's gradients during its first epoch).
    /// </summary>
    public Action<StepContext>? BeforeOptimizerStep { get; init; }

    /// <summary>Called after each optimizer update under <c>no_grad</c> (e.g. the teacher's EMA update).</summary>
    public Action<StepContext>? AfterStep { get; init; }

    /// <summary>Evaluation run at each epoch end / interval; returns named metrics for the epoch row.</summary>
    public Func<EvalContext, IReadOnlyDictionary<string, double>>? Evaluate { get; init; }

    /// <summary>Every module, trainable first: the order of <c>module-{i}.bin</c> in a checkpoint.</summary>
    internal IReadOnlyList<nn.Module> AllModules => [.. Trainable, .. Frozen];
}

/// <summary>Factories for the common single-model case.</summary>
public static class TrainingSpec
{
    /// <summary>A spec with one trainable <paramref name="model"/>.</summary>
    public static TrainingSpec<TBatch> ForModel<TBatch>(nn.Module model, IBatchSource<TBatch> data,
        Func<TBatch, StepContext, Tensor> loss, Func<EvalContext, IReadOnlyDictionary<string, double>>? evaluate = null) =>
        new() { Trainable = [model], Data = data, Loss = loss, Evaluate = evaluate };
}
