using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// nanoGPT's causal multi-head self-attention (GPT-2 baseline): <c>c_attn</c> (d → 3d) gives q, k, v,
/// causal softmax(q kᵀ/√p) v, then <c>c_proj</c> (d → d) and residual dropout. Residual outside.
/// </summary>
public sealed class GptCausalSelfAttention : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>Fused q, k, v projection.</summary>
    public readonly Linear c_attn;

    /// <summary>Output projection (scaled init N(0, 0.02/√(2L))).</summary>
    public readonly Linear c_proj;

    private readonly Dropout resid_dropout;
    private readonly int heads;
    private readonly double dropout;

    /// <summary>Use scaled_dot_product_attention (same function).</summary>
    public bool Fast { get; set; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Attention for <paramref name="config"/>.</summary>
    public GptCausalSelfAttention(GptConfig config) : base(nameof(GptCausalSelfAttention))
    {
        c_attn = nn.Linear(config.NEmbd, 3L * config.NEmbd, hasBias: config.Bias);
        c_proj = nn.Linear(config.NEmbd, config.NEmbd, hasBias: config.Bias);
        resid_dropout = nn.Dropout(config.Dropout);
        heads = config.NHead;
        dropout = config.Dropout;
        Fast = config.Fast;
        RegisterComponents();
    }

    /// <summary>X [B, T, d] (normed) → [B, T, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1], d = x.shape[2], p = d / heads;
        var qkv = MixedPrecision.Linear(c_attn, x, ComputeType).view(b, t, 3, heads, p).permute(2, 0, 3, 1, 4);   // [3, B, H, T, p]
        Tensor q = qkv[0], k = qkv[1], v = qkv[2];                                   // [B, H, T, p]
        double pDrop = training ? dropout : 0.0;
        Tensor y;
        if (Fast)
            y = MixedPrecision.Attention(q, k, v, null, pDrop, causal: true);   // [B, H, T, p]
        else
        {
            var att = matmul(q, k.transpose(-2, -1)) * (1.0 / Math.Sqrt(p));         // [B, H, T, T]
            var future = ones(t, t, ScalarType.Bool, x.device).tril().logical_not(); // [T, T]
            att = MixedPrecision.Softmax(att.masked_fill(future, double.NegativeInfinity), -1);
            y = matmul(nn.functional.dropout(att, pDrop, pDrop > 0), v);             // [B, H, T, p]
        }
        y = y.transpose(1, 2).reshape(b, t, d);                                      // [B, T, d]
        return MixedPrecision.Out(resid_dropout.forward(MixedPrecision.Linear(c_proj, y, ComputeType)), ComputeType).MoveToOuterDisposeScope();
    }
}
