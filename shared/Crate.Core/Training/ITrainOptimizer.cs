using TorchSharp.Modules;

namespace Crate.Core.Training;

/// <summary>The optimizers the trainer knows.</summary>
public enum OptimizerKind
{
    /// <summary>TorchSharp's AdamW (decoupled weight decay, Loshchilov and Hutter 2019).</summary>
    AdamW,
    /// <summary>Lion (Chen et al. 2023), the paper's ImageNet optimizer; see <see cref="LionOptimizer"/>.</summary>
    Lion,
}

/// <summary>
/// An optimizer over two parameter groups (weight-decayed and not), with a learning rate and weight
/// decay the trainer sets before every step, and a state that saves and restores exactly.
/// </summary>
public interface ITrainOptimizer : IDisposable
{
    /// <summary>Which algorithm this is.</summary>
    OptimizerKind Kind { get; }

    /// <summary>The parameters it updates, in a fixed order.</summary>
    IReadOnlyList<NamedParameter> Parameters { get; }

    /// <summary>Sets the learning rate of every group.</summary>
    void SetLearningRate(double lr);

    /// <summary>Sets the weight decay of the decayed group (the other group stays at 0).</summary>
    void SetWeightDecay(double weightDecay);

    /// <summary>Clears the gradients of every parameter.</summary>
    void ZeroGrad();

    /// <summary>One update from the current gradients.</summary>
    void Step();

    /// <summary>Writes the full state (moments, step counts, hyper-parameters).</summary>
    void Save(BinaryWriter writer);

    /// <summary>Restores a state written by <see cref="Save"/> for the same parameters.</summary>
    void Load(BinaryReader reader);
}

/// <summary>Hyper-parameters shared by both optimizers.</summary>
/// <param name="Beta1">First-moment (AdamW) or interpolation (Lion) coefficient.</param>
/// <param name="Beta2">Second-moment (AdamW) or momentum (Lion) coefficient.</param>
/// <param name="Eps">AdamW's denominator epsilon (unused by Lion).</param>
/// <param name="WeightDecay">Decoupled weight decay of the decayed group.</param>
public sealed record OptimizerSettings(double Beta1, double Beta2, double Eps, double WeightDecay)
{
    /// <summary>Builds the optimizer of kind <paramref name="kind"/>; the learning rate is set per step.</summary>
    public ITrainOptimizer Create(OptimizerKind kind, IReadOnlyList<NamedParameter> parameters) => kind switch
    {
        OptimizerKind.AdamW => new AdamWOptimizer(parameters, this),
        OptimizerKind.Lion => new LionOptimizer(parameters, this),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown optimizer"),
    };
}
