using TorchSharp.Modules;

namespace Crate.Core.Training;

/// <summary>
/// A trainable parameter with its qualified name (<c>m0.blocks.3.attn.qkv.weight</c>), whether it is
/// weight-decayed, and its learning-rate / weight-decay multipliers.
/// </summary>
public sealed record NamedParameter(string Name, Parameter Parameter, bool Decay, ParameterScale Scale = default)
{
    /// <summary>The multipliers in effect (a default-constructed scale means 1, 1).</summary>
    public ParameterScale EffectiveScale => Scale == default ? ParameterScale.One : Scale;

    /// <summary>The optimizer group this parameter belongs to: decay flag and both multipliers.</summary>
    public (bool Decay, double LearningRate, double WeightDecay) GroupKey =>
        (Decay, EffectiveScale.LearningRate, Decay ? EffectiveScale.WeightDecay : 0);
}

/// <summary>
/// Splits parameters into weight-decayed and not decayed. The default rule is nanoGPT's
/// (<c>configure_optimizers</c>): tensors with two or more dimensions (matrices, embeddings, CRATE's
/// dictionary D) are decayed; biases and LayerNorm gains are not.
/// </summary>
public static class ParameterGroups
{
    /// <summary>nanoGPT's rule: decay every tensor with at least two dimensions.</summary>
    public static bool DecayMatricesOnly(string name, Parameter parameter) => parameter.dim() >= 2;

    /// <summary>Decay every parameter (what <c>torch.optim.AdamW(model.parameters())</c> does).</summary>
    public static bool DecayAll(string name, Parameter parameter) => true;

    /// <summary>
    /// The trainable parameters of <paramref name="modules"/> (those with <c>requires_grad</c>), named
    /// <c>m{i}.{state_dict name}</c>, each marked by <paramref name="decay"/> (default: <see cref="DecayMatricesOnly"/>).
    /// A parameter shared by two modules (tied weights) is listed once. <paramref name="scales"/> gives each
    /// parameter (by its state_dict name within its module) learning-rate and weight-decay multipliers.
    /// </summary>
    public static IReadOnlyList<NamedParameter> Collect(IReadOnlyList<TorchSharp.torch.nn.Module> modules,
        Func<string, Parameter, bool>? decay = null, Func<string, Parameter, ParameterScale>? scales = null)
    {
        decay ??= DecayMatricesOnly;
        var seen = new HashSet<IntPtr>();
        var result = new List<NamedParameter>();
        for (int i = 0; i < modules.Count; i++)
            foreach (var (name, p) in modules[i].named_parameters())
                if (p.requires_grad && seen.Add(p.Handle))
                    result.Add(new NamedParameter($"m{i}.{name}", p, decay(name, p), scales?.Invoke(name, p) ?? ParameterScale.One));
        return result;
    }
}

/// <summary>
/// The optimizer groups of a parameter list: one per distinct (decay, lr scale, wd scale); decayed groups first,
/// each kind in first-seen order (without scales: the decayed group, then the other, as checkpoints always had).
/// </summary>
internal static class OptimizerGroups
{
    public static IReadOnlyList<(bool Decay, ParameterScale Scale, IReadOnlyList<NamedParameter> Members)> Of(IReadOnlyList<NamedParameter> parameters) =>
        parameters.GroupBy(p => p.GroupKey).OrderBy(g => g.Key.Decay ? 0 : 1)
            .Select(g => (g.Key.Decay, new ParameterScale(g.Key.LearningRate, g.Key.WeightDecay), (IReadOnlyList<NamedParameter>)g.ToList()))
            .ToList();

    /// <summary>A short description of the grouping, stored in checkpoints so a resume with other groups is refused.</summary>
    public static string Layout(IReadOnlyList<NamedParameter> parameters) =>
        string.Join(";", Of(parameters).Select(g => FormattableString.Invariant($"{(g.Decay ? "decay" : "no_decay")}×lr{g.Scale.LearningRate:R}×wd{g.Scale.WeightDecay:R}:{g.Members.Count}")));
}
