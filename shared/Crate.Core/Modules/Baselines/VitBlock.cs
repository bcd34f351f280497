using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The pre-norm transformer block of the ViT baseline (timm <c>Block</c>):
/// x = x + Attn(LN₁(x)); x = x + MLP(LN₂(x)), LayerNorm eps 1e-6. Names <c>norm1</c>, <c>attn.*</c>,
/// <c>norm2</c>, <c>mlp.fc1</c>, <c>mlp.fc2</c>.
/// </summary>
public sealed class VitBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>Pre-norm of the attention.</summary>
    public readonly LayerNorm norm1;

    /// <summary>Multi-head self-attention.</summary>
    public readonly VitAttention attn;

    /// <summary>Pre-norm of the MLP.</summary>
    public readonly LayerNorm norm2;

    /// <summary>The MLP.</summary>
    public readonly VitMlp mlp;

    /// <summary>A block of width <paramref name="dim"/>, <paramref name="heads"/> heads, MLP hidden width <paramref name="mlpHidden"/>.</summary>
    public VitBlock(long dim, int heads, long mlpHidden, bool qkvBias = true, double dropout = 0.0, bool fast = true)
        : base(nameof(VitBlock))
    {
        norm1 = nn.LayerNorm(dim, 1e-6);
        attn = new VitAttention(dim, heads, qkvBias, dropout, fast);
        norm2 = nn.LayerNorm(dim, 1e-6);
        mlp = new VitMlp(dim, mlpHidden);
        RegisterComponents();
    }

    /// <summary>[B, n, d] → [B, n, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + attn.forward(norm1.forward(x));     // [B, n, d]
        h = h + mlp.forward(norm2.forward(h));          // [B, n, d]
        return h.MoveToOuterDisposeScope();
    }
}
