using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// CRATE-GPT block (docs/paper.md §3f): x = x + CausalMSSA(LN₁(x)); x = ISTA(LN₂(x)) with no residual.
/// Names as the reference <c>crate_gpt.py</c>: <c>prenorm_1</c>, <c>attn.c_attn</c>, <c>attn.c_proj</c>,
/// <c>prenorm_2</c>, <c>ista.weight</c>.
/// </summary>
public sealed class CrateGptBlock : nn.Module<Tensor, Tensor>, ICrateLayer
{
    /// <summary>Pre-norm of the attention (with bias, eps 1e-5).</summary>
    public readonly LayerNorm prenorm_1;

    /// <summary>Causal MSSA.</summary>
    public readonly CrateGptAttention attn;

    /// <summary>Pre-norm of the ISTA block.</summary>
    public readonly LayerNorm prenorm_2;

    /// <summary>The ISTA block (D kaiming-uniform; kept out of the N(0, 0.02) init as in the reference).</summary>
    public readonly IstaBlock ista;

    /// <summary>A block for <paramref name="config"/>.</summary>
    public CrateGptBlock(GptConfig config) : base(nameof(CrateGptBlock))
    {
        prenorm_1 = nn.LayerNorm(config.NEmbd, 1e-5);
        attn = new CrateGptAttention(config);
        prenorm_2 = nn.LayerNorm(config.NEmbd, 1e-5);
        ista = new IstaBlock(config.NEmbd, config.Eta, config.Lambda, config.Fast);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int Heads => attn.Heads;

    /// <summary>[B, T, d] → [B, T, d] (non-negative).</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var half = x + attn.forward(prenorm_1.forward(x));              // [B, T, d]
        return ista.forward(prenorm_2.forward(half)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor Project(Tensor z)
    {
        using var scope = NewDisposeScope();
        return attn.c_attn.forward(prenorm_1.forward(z)).MoveToOuterDisposeScope();   // [B, T, d]
    }
}
