using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>
/// Lion (EvoLved Sign Momentum; Chen et al. 2023), the optimizer of the paper's ImageNet recipe
/// (docs/paper.md §3a, pitfall 10). Not in TorchSharp. Per parameter with gradient g and momentum m (initially 0):
/// <code>
/// update = sign(β₁·m + (1 − β₁)·g)
/// p      ← p·(1 − lr·wd) − lr·update
/// m      ← β₂·m + (1 − β₂)·g
/// </code>
/// as in <c>lion_pytorch</c> (default β = (0.9, 0.99)). Parameters without a gradient are skipped.
/// </summary>
public sealed class LionOptimizer : ITrainOptimizer
{
    private const int FormatVersion = 1;
    private readonly Tensor?[] _momentum;
    private readonly double _beta1, _beta2;
    private double _lr, _weightDecay;

    /// <summary>Creates the optimizer; momentum buffers are allocated on the first step.</summary>
    public LionOptimizer(IReadOnlyList<NamedParameter> parameters, OptimizerSettings settings)
    {
        Parameters = parameters;
        _momentum = new Tensor?[parameters.Count];
        (_beta1, _beta2, _weightDecay) = (settings.Beta1, settings.Beta2, settings.WeightDecay);
    }

    /// <inheritdoc />
    public OptimizerKind Kind => OptimizerKind.Lion;

    /// <inheritdoc />
    public IReadOnlyList<NamedParameter> Parameters { get; }

    /// <inheritdoc />
    public void SetLearningRate(double lr) => _lr = lr;

    /// <inheritdoc />
    public void SetWeightDecay(double weightDecay) => _weightDecay = weightDecay;

    /// <inheritdoc />
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.Parameter.grad = null;
    }

    /// <inheritdoc />
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < Parameters.Count; i++)
        {
            var (p, decay, scale) = (Parameters[i].Parameter, Parameters[i].Decay, Parameters[i].EffectiveScale);
            double lr = _lr * scale.LearningRate, weightDecay = _weightDecay * scale.WeightDecay;
            var g = p.grad;
            if (g is null) continue;
            var m = _momentum[i] ??= zeros_like(p).DetachFromDisposeScope();
            if (decay && weightDecay != 0) p.mul_(1 - lr * weightDecay);
            var update = m.mul(_beta1).add_(g, alpha: 1 - _beta1).sign_();
            p.add_(update, alpha: -lr);
            m.mul_(_beta2).add_(g, alpha: 1 - _beta2);
        }
    }

    /// <inheritdoc />
    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatVersion);
        writer.Write(_momentum.Length);
        writer.Write(_beta1); writer.Write(_beta2); writer.Write(_lr); writer.Write(_weightDecay);
        foreach (var m in _momentum)
        {
            writer.Write(m is not null);
            m?.Save(writer);
        }
    }

    /// <inheritdoc />
    public void Load(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"Lion state format {version} is not {FormatVersion}");
        int count = reader.ReadInt32();
        if (count != _momentum.Length)
            throw new InvalidDataException($"Lion state holds {count} parameters, the model has {_momentum.Length}");
        double beta1 = reader.ReadDouble(), beta2 = reader.ReadDouble();
        if (beta1 != _beta1 || beta2 != _beta2)
            throw new InvalidDataException($"Lion state has betas ({beta1}, {beta2}), this optimizer ({_beta1}, {_beta2})");
        _lr = reader.ReadDouble(); _weightDecay = reader.ReadDouble();
        for (int i = 0; i < count; i++)
        {
            if (!reader.ReadBoolean()) { _momentum[i]?.Dispose(); _momentum[i] = null; continue; }
            var p = Parameters[i].Parameter;
            using var cpu = Tensor.Load(reader);
            if (!cpu.shape.SequenceEqual(p.shape))
                throw new InvalidDataException($"Lion momentum {i} has shape [{string.Join(", ", cpu.shape)}], parameter {Parameters[i].Name} [{string.Join(", ", p.shape)}]");
            using var noGrad = no_grad();
            var m = _momentum[i] ??= zeros_like(p).DetachFromDisposeScope();
            m.copy_(cpu);
        }
    }

    /// <summary>The momentum buffer of parameter <paramref name="index"/> (null before its first gradient).</summary>
    public Tensor? Momentum(int index) => _momentum[index];

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var m in _momentum) m?.Dispose();
    }
}
