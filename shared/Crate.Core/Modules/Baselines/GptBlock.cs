using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>nanoGPT's block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)). Names <c>ln_1</c>, <c>attn.*</c>, <c>ln_2</c>, <c>mlp.*</c>.</summary>
public sealed class GptBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>Pre-norm of the attention (eps 1e-5).</summary>
    public readonly LayerNorm ln_1;

    /// <summary>Causal self-attention.</summary>
    public readonly GptCausalSelfAttention attn;

    /// <summary>Pre-norm of the MLP.</summary>
    public readonly LayerNorm ln_2;

    /// <summary>The MLP.</summary>
    public readonly GptMlp mlp;

    /// <summary>A block for <paramref name="config"/>.</summary>
    public GptBlock(GptConfig config) : base(nameof(GptBlock))
    {
        ln_1 = nn.LayerNorm(config.NEmbd, 1e-5, bias: config.Bias);
        attn = new GptCausalSelfAttention(config);
        ln_2 = nn.LayerNorm(config.NEmbd, 1e-5, bias: config.Bias);
        mlp = new GptMlp(config);
        RegisterComponents();
    }

    /// <summary>[B, T, d] → [B, T, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = x + attn.forward(ln_1.forward(x));     // [B, T, d]
        h = h + mlp.forward(ln_2.forward(h));          // [B, T, d]
        return h.MoveToOuterDisposeScope();
    }
}
