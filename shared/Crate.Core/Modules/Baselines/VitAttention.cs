using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// Standard multi-head self-attention of the ViT baseline (timm <c>Attention</c>): separate q, k, v
/// from one fused Linear <c>qkv</c> (d → 3d, bias on in the reference), softmax(q kᵀ/√p) v per head,
/// output Linear <c>proj</c>. Residual outside.
/// </summary>
public sealed class VitAttention : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>Fused q, k, v projection d → 3d.</summary>
    public readonly Linear qkv;

    /// <summary>Output projection d → d.</summary>
    public readonly Linear proj;

    private readonly int heads;
    private readonly double dropout;

    /// <summary>Use scaled_dot_product_attention (same function).</summary>
    public bool Fast { get; set; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Attention of width <paramref name="dim"/> with <paramref name="heads"/> heads.</summary>
    public VitAttention(long dim, int heads, bool qkvBias = true, double dropout = 0.0, bool fast = true)
        : base(nameof(VitAttention))
    {
        qkv = nn.Linear(dim, 3 * dim, hasBias: qkvBias);
        proj = nn.Linear(dim, dim);
        this.heads = heads;
        this.dropout = dropout;
        Fast = fast;
        RegisterComponents();
    }

    /// <summary>X [B, n, d] (normed) → attention output [B, n, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], d = x.shape[2], p = d / heads;
        var qkvh = MixedPrecision.Linear(qkv, x, ComputeType).view(b, n, 3, heads, p).permute(2, 0, 3, 1, 4);   // [3, B, H, n, p]
        Tensor q = qkvh[0], k = qkvh[1], v = qkvh[2];                               // [B, H, n, p] each
        double pDrop = training ? dropout : 0.0;
        Tensor o;
        if (Fast)
            o = MixedPrecision.Attention(q, k, v, null, pDrop);   // [B, H, n, p]
        else
        {
            var attn = MixedPrecision.Softmax(matmul(q, k.transpose(-1, -2)) * (1.0 / Math.Sqrt(p)), -1);  // [B, H, n, n]
            o = matmul(nn.functional.dropout(attn, pDrop, pDrop > 0), v);             // [B, H, n, p]
        }
        var merged = o.transpose(1, 2).reshape(b, n, d);                              // [B, n, d]
        return MixedPrecision.Out(MixedPrecision.Linear(proj, merged, ComputeType), ComputeType).MoveToOuterDisposeScope();
    }
}
