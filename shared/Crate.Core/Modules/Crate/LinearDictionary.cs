using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The CRATE-MAE decoder's linear partial inverse of ISTA (docs/paper.md §5): Z̃^{ℓ+1/2} = D̃·Y with a
/// square, bias-free D̃ and no nonlinearity; row form Y·D̃ᵀ. State_dict <c>weight</c> = D̃ [d, d],
/// kaiming-uniform (a = 0) like the encoder's dictionary.
/// </summary>
public sealed class LinearDictionary : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>The decoder dictionary D̃ [d, d].</summary>
    public readonly Parameter weight;

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>A dictionary over <paramref name="dim"/> features.</summary>
    public LinearDictionary(long dim) : base(nameof(LinearDictionary))
    {
        weight = new Parameter(empty(dim, dim));
        using (no_grad())
            nn.init.kaiming_uniform_(weight);
        RegisterComponents();
    }

    /// <summary>Y [..., d] → Y·D̃ᵀ [..., d].</summary>
    public override Tensor forward(Tensor y)
    {
        using var scope = NewDisposeScope();
        return MixedPrecision.Out(MixedPrecision.Linear(y, weight, null, ComputeType), ComputeType).MoveToOuterDisposeScope();
    }
}
