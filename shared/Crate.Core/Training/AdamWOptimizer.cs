using TorchSharp;
using TorchSharp.Modules;

namespace Crate.Core.Training;

/// <summary>
/// TorchSharp's AdamW over a decayed and a non-decayed group. Per parameter, with t the step count:
/// <c>p ← p(1 − lr·wd)</c>; <c>m ← β₁m + (1−β₁)g</c>; <c>v ← β₂v + (1−β₂)g²</c>;
/// <c>p ← p − lr/(1−β₁ᵗ) · m / (√v / √(1−β₂ᵗ) + ε)</c>.
/// Its state (step counts, both moments, group options) is saved with TorchSharp's own
/// <c>save_state_dict</c>, which writes the tensors' raw bytes, so a restore is bit-exact.
/// </summary>
public sealed class AdamWOptimizer : ITrainOptimizer
{
    private readonly AdamW _optimizer;
    private readonly List<(AdamW.ParamGroup Group, bool Decay, ParameterScale Scale)> _groups = [];

    /// <summary>
    /// Creates the optimizer with one group per distinct (decay, learning-rate scale, weight-decay scale): the
    /// decayed and non-decayed groups, split further where <see cref="NamedParameter.Scale"/> differs.
    /// </summary>
    public AdamWOptimizer(IReadOnlyList<NamedParameter> parameters, OptimizerSettings settings)
    {
        Parameters = parameters;
        foreach (var (decay, scale, members) in OptimizerGroups.Of(parameters))
        {
            var group = new AdamW.ParamGroup(members.Select(p => p.Parameter), lr: 0, beta1: settings.Beta1, beta2: settings.Beta2,
                eps: settings.Eps, weight_decay: decay ? settings.WeightDecay * scale.WeightDecay : 0, amsgrad: false, maximize: false);
            _groups.Add((group, decay, scale));
        }
        _optimizer = torch.optim.AdamW(_groups.Select(g => g.Group), lr: 0, beta1: settings.Beta1,
            beta2: settings.Beta2, eps: settings.Eps, weight_decay: 0);
    }

    /// <inheritdoc />
    public OptimizerKind Kind => OptimizerKind.AdamW;

    /// <inheritdoc />
    public IReadOnlyList<NamedParameter> Parameters { get; }

    /// <inheritdoc />
    public void SetLearningRate(double lr)
    {
        foreach (var (group, _, scale) in _groups) group.LearningRate = lr * scale.LearningRate;
    }

    /// <inheritdoc />
    public void SetWeightDecay(double weightDecay)
    {
        foreach (var (group, decay, scale) in _groups)
            if (decay) ((AdamW.Options)group.Options).weight_decay = weightDecay * scale.WeightDecay;
    }

    /// <inheritdoc />
    public void ZeroGrad() => _optimizer.zero_grad();

    /// <inheritdoc />
    public void Step() => _optimizer.step();

    /// <inheritdoc />
    public void Save(BinaryWriter writer) => _optimizer.save_state_dict(writer);

    /// <inheritdoc />
    public void Load(BinaryReader reader) => _optimizer.load_state_dict(reader);

    /// <inheritdoc />
    public void Dispose() => _optimizer.Dispose();
}
