using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// CRATE-GPT's causal MSSA (docs/paper.md §3f): one bias-free projection <c>c_attn</c> (d → d) is the
/// query, key and value of every head, future keys masked to −∞ before the softmax, then <c>c_proj</c>
/// (d → d, with bias) and dropout. Names as the reference <c>crate_gpt.py</c>. Its non-persistent causal
/// buffer <c>attn.bias</c> is not kept here (the mask is built per call).
/// </summary>
public sealed class CrateGptAttention : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>The shared projection U (no bias).</summary>
    public readonly Linear c_attn;

    /// <summary>Output projection (bias, scaled init).</summary>
    public readonly Linear c_proj;

    private readonly Dropout resid_dropout;
    private readonly double dropout;

    /// <summary>Number of heads K.</summary>
    public int Heads { get; }

    /// <summary>Use scaled_dot_product_attention (same function).</summary>
    public bool Fast { get; set; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Attention for <paramref name="config"/>.</summary>
    public CrateGptAttention(GptConfig config) : base(nameof(CrateGptAttention))
    {
        c_attn = nn.Linear(config.NEmbd, config.NEmbd, hasBias: false);
        c_proj = nn.Linear(config.NEmbd, config.NEmbd, hasBias: true);
        resid_dropout = nn.Dropout(config.Dropout);
        dropout = config.Dropout;
        Heads = config.NHead;
        Fast = config.Fast;
        RegisterComponents();
    }

    /// <summary>X [B, T, d] (normed) → [B, T, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var w = MixedPrecision.Linear(c_attn, x, ComputeType);                                  // [B, T, d]
        var y = SubspaceAttention.Attend(w, Heads, causal: true, keyPadding: null, dropout, training, Fast);   // [B, T, d]
        var o = resid_dropout.forward(MixedPrecision.Linear(c_proj, y, ComputeType));           // [B, T, d]
        return MixedPrecision.Out(o, ComputeType).MoveToOuterDisposeScope();
    }
}
