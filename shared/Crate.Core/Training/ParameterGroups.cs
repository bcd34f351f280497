using TorchSharp.Modules;

namespace Crate.Core.Training;

/// <summary>A trainable parameter with its qualified name (<c>m0.blocks.3.attn.qkv.weight</c>) and whether it is weight-decayed.</summary>
public sealed record NamedParameter(string Name, Parameter Parameter, bool Decay);

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
    /// A parameter shared by two modules (tied weights) is listed once.
    /// </summary>
    public static IReadOnlyList<NamedParameter> Collect(IReadOnlyList<TorchSharp.torch.nn.Module> modules,
        Func<string, Parameter, bool>? decay = null)
    {
        decay ??= DecayMatricesOnly;
        var seen = new HashSet<IntPtr>();
        var result = new List<NamedParameter>();
        for (int i = 0; i < modules.Count; i++)
            foreach (var (name, p) in modules[i].named_parameters())
                if (p.requires_grad && seen.Add(p.Handle))
                    result.Add(new NamedParameter($"m{i}.{name}", p, decay(name, p)));
        return result;
    }
}
