using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// One CRATE layer as the reference codes it (docs/paper.md §1.1 "what the implementation computes",
/// §1.2): Z^{ℓ+1/2} = Z^ℓ + MSSA(LN₁(Z^ℓ)), then Z^{ℓ+1} = ISTA(LN₂(Z^{ℓ+1/2})) with no residual.
/// State_dict (reference <c>nn.ModuleList([PreNorm(Attention), PreNorm(FeedForward)])</c>):
/// <c>0.norm.*</c>, <c>0.fn.qkv.weight</c>, <c>0.fn.to_out.0.*</c>, <c>1.norm.*</c>, <c>1.fn.weight</c>.
/// </summary>
public sealed class CrateLayer : nn.Module<Tensor, Tensor>, ICrateLayer
{
    // Named "0" and "1" as the reference's inner ModuleList.
    [ComponentName(Name = "0")]
    private readonly PreNorm<MultiSubspaceSelfAttention> attn;
    [ComponentName(Name = "1")]
    private readonly PreNorm<IstaBlock> ista;

    /// <summary>A layer of width <paramref name="dim"/>, K = <paramref name="heads"/> heads of width <paramref name="headDim"/>.</summary>
    public CrateLayer(long dim, int heads, int headDim, double dropout = 0.0, double eta = 0.1,
        double lambda = 0.1, bool causal = false, bool fast = true) : base(nameof(CrateLayer))
    {
        attn = new PreNorm<MultiSubspaceSelfAttention>(dim,
            new MultiSubspaceSelfAttention(dim, heads, headDim, dropout, causal, fast));
        ista = new PreNorm<IstaBlock>(dim, new IstaBlock(dim, eta, lambda, fast));
        RegisterComponents();
    }

    /// <summary>The MSSA sub-block and its pre-norm (<c>0.*</c>).</summary>
    public PreNorm<MultiSubspaceSelfAttention> Attention => attn;

    /// <summary>The ISTA sub-block and its pre-norm (<c>1.*</c>).</summary>
    public PreNorm<IstaBlock> Ista => ista;

    /// <inheritdoc/>
    public int Heads => attn.fn.Heads;

    /// <summary>Switches both sub-blocks between the fast and the plain formulas.</summary>
    public bool Fast
    {
        get => attn.fn.Fast;
        set { attn.fn.Fast = value; ista.fn.Fast = value; }
    }

    /// <summary>Z^ℓ [B, n, d] → Z^{ℓ+1} [B, n, d].</summary>
    public override Tensor forward(Tensor z) => forward(z, null);

    /// <summary>As <see cref="forward(Tensor)"/> with a key-padding mask [B, n] (true = padding).</summary>
    public Tensor forward(Tensor z, Tensor? keyPadding)
    {
        using var scope = NewDisposeScope();
        var half = z + attn.fn.forward(attn.norm.forward(z), keyPadding);   // Z^{ℓ+1/2} [B, n, d]
        return ista.fn.forward(ista.norm.forward(half)).MoveToOuterDisposeScope();   // Z^{ℓ+1} ≥ 0
    }

    /// <inheritdoc/>
    public Tensor Project(Tensor z)
    {
        using var scope = NewDisposeScope();
        return attn.fn.qkv.forward(attn.norm.forward(z)).MoveToOuterDisposeScope();   // [B, n, K·p]
    }

    /// <summary>U·LN₁(Z^{ℓ+1/2}) with Z^{ℓ+1/2} = Z^ℓ + MSSA(LN₁(Z^ℓ)): the caption's R^c(Z^{ℓ+1/2} | U^ℓ), [B, n, d] → [B, n, K·p].</summary>
    public Tensor ProjectAfterStep(Tensor z)
    {
        using var scope = NewDisposeScope();
        var half = z + attn.fn.forward(attn.norm.forward(z), null);                   // Z^{ℓ+1/2} [B, n, d]
        return attn.fn.qkv.forward(attn.norm.forward(half)).MoveToOuterDisposeScope();   // [B, n, K·p]
    }
}
