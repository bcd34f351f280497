using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>The ViT baseline's MLP (timm <c>Mlp</c>): <c>fc1</c> (d → r·d) → GELU (exact) → <c>fc2</c> (r·d → d).</summary>
public sealed class VitMlp : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>Expansion d → hidden.</summary>
    public readonly Linear fc1;

    /// <summary>Contraction hidden → d.</summary>
    public readonly Linear fc2;

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>An MLP of width <paramref name="dim"/> and hidden width <paramref name="hidden"/>.</summary>
    public VitMlp(long dim, long hidden) : base(nameof(VitMlp))
    {
        fc1 = nn.Linear(dim, hidden);
        fc2 = nn.Linear(hidden, dim);
        RegisterComponents();
    }

    /// <summary>[B, n, d] → [B, n, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.gelu(MixedPrecision.Linear(fc1, x, ComputeType));                  // [B, n, hidden]
        return MixedPrecision.Out(MixedPrecision.Linear(fc2, h, ComputeType), ComputeType).MoveToOuterDisposeScope();
    }
}
