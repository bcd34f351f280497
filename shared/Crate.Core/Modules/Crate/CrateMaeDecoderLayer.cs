using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// One CRATE-MAE decoder layer g^ℓ (docs/paper.md §3c, §5), the anti-parallel mirror of an encoder
/// layer: Z̃^{ℓ+1/2} = D̃·LN₁(Z̃^ℓ) (no ReLU, no residual), then Z̃^{ℓ+1} = Z̃^{ℓ+1/2} − MSSA(LN₂(Z̃^{ℓ+1/2})),
/// the compression step reversed. State_dict names as the reference <c>crate_decoder.Block_CRATE</c>:
/// <c>layers.0.0.norm.*</c>, <c>layers.0.0.fn.weight</c>, <c>layers.0.1.norm.*</c>, <c>layers.0.1.fn.qkv.weight</c>,
/// <c>layers.0.1.fn.to_out.0.*</c>.
/// </summary>
public sealed class CrateMaeDecoderLayer : nn.Module<Tensor, Tensor>, ICrateLayer
{
    /// <summary>The reference's single-entry ModuleList (<c>layers.0</c>).</summary>
    public readonly ModuleList<DecoderPair> layers;

    /// <summary>A decoder layer of width <paramref name="dim"/> with <paramref name="heads"/> heads of width <paramref name="headDim"/>.</summary>
    public CrateMaeDecoderLayer(long dim, int heads, int headDim, double dropout = 0.0, bool fast = true)
        : base(nameof(CrateMaeDecoderLayer))
    {
        layers = new ModuleList<DecoderPair>(new DecoderPair(dim, heads, headDim, dropout, fast));
        RegisterComponents();
    }

    /// <summary>Z̃^ℓ [B, n, d] → Z̃^{ℓ+1} [B, n, d].</summary>
    public override Tensor forward(Tensor z)
    {
        using var scope = NewDisposeScope();
        var pair = layers[0];
        var half = pair.dictionary.fn.forward(pair.dictionary.norm.forward(z));              // D̃·LN(Z̃) [B, n, d]
        var result = half - pair.attention.fn.forward(pair.attention.norm.forward(half));   // [B, n, d]
        return result.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public int Heads => layers[0].attention.fn.Heads;

    /// <summary>
    /// For the white-box measurements: the MSSA projection U·LN₂(D̃·LN₁(Z̃)) of the layer's MSSA input (the decoder's
    /// compression step acts on Z̃^{ℓ+1/2}, so R^c is measured there), [B, n, d] → [B, n, K·p].
    /// </summary>
    public Tensor Project(Tensor z)
    {
        using var scope = NewDisposeScope();
        var pair = layers[0];
        var half = pair.dictionary.fn.forward(pair.dictionary.norm.forward(z));              // [B, n, d]
        return pair.attention.fn.qkv.forward(pair.attention.norm.forward(half)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// U·LN₂(Z̃^{ℓ+1}) with Z̃^{ℓ+1} = Y − MSSA(LN₂(Y)), Y = D̃·LN₁(Z̃^ℓ): the projection of <see cref="Project"/> after the
    /// subtracted MSSA step, [B, n, d] → [B, n, K·p]. The paper's picture (the decoder undoes the encoder's compression)
    /// predicts R^c here above R^c at <see cref="Project"/>.
    /// </summary>
    public Tensor ProjectAfterStep(Tensor z)
    {
        using var scope = NewDisposeScope();
        var pair = layers[0];
        var half = pair.dictionary.fn.forward(pair.dictionary.norm.forward(z));              // Y [B, n, d]
        var after = half - pair.attention.fn.forward(pair.attention.norm.forward(half));    // Z̃^{ℓ+1} [B, n, d]
        return pair.attention.fn.qkv.forward(pair.attention.norm.forward(after)).MoveToOuterDisposeScope();
    }

    /// <summary>The (dictionary, attention) pair, named <c>0</c> and <c>1</c> as the reference.</summary>
    public sealed class DecoderPair : nn.Module
    {
        /// <summary>D̃ behind its pre-norm (<c>0.*</c>).</summary>
        [ComponentName(Name = "0")]
        public readonly PreNorm<LinearDictionary> dictionary;

        /// <summary>MSSA behind its pre-norm (<c>1.*</c>).</summary>
        [ComponentName(Name = "1")]
        public readonly PreNorm<MultiSubspaceSelfAttention> attention;

        /// <summary>Builds the pair.</summary>
        public DecoderPair(long dim, int heads, int headDim, double dropout, bool fast) : base(nameof(DecoderPair))
        {
            dictionary = new PreNorm<LinearDictionary>(dim, new LinearDictionary(dim));
            attention = new PreNorm<MultiSubspaceSelfAttention>(dim,
                new MultiSubspaceSelfAttention(dim, heads, headDim, dropout, causal: false, fast: fast));
            RegisterComponents();
        }
    }
}
