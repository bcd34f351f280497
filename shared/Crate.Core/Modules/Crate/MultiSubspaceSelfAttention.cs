using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// Multi-head subspace self-attention MSSA(Z|U_[K]) (docs/paper.md §1.1 step 1, §1.2 MSSA sub-block, §6.6):
/// one bias-free projection <c>qkv</c> (d → K·p) is the query, key and value of every head,
/// softmax(W_k W_kᵀ/√p) W_k per head, then the output linear <c>to_out.0</c> (K·p → d, with bias).
/// The residual is the caller's. State_dict names as the reference Attention: <c>qkv.weight</c>,
/// <c>to_out.0.weight</c>, <c>to_out.0.bias</c> (no output map when K = 1 and p = d, as there).
/// </summary>
public sealed class MultiSubspaceSelfAttention : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>U: the shared projection d → K·p, no bias.</summary>
    public readonly Linear qkv;

    /// <summary>Output map: <c>to_out.0</c> Linear(K·p → d) and <c>to_out.1</c> Dropout; null when K = 1, p = d.</summary>
    public readonly Sequential? to_out;

    /// <summary>Number of heads (subspaces) K.</summary>
    public int Heads { get; }

    /// <summary>Head dimension p.</summary>
    public int HeadDim { get; }

    /// <summary>Attention-probability dropout (reference default 0).</summary>
    public double Dropout { get; }

    /// <summary>Use scaled_dot_product_attention (same function).</summary>
    public bool Fast { get; set; }

    /// <summary>Mask future keys (CRATE-GPT, docs/paper.md §3f).</summary>
    public bool Causal { get; set; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>MSSA over <paramref name="dim"/> features with <paramref name="heads"/> heads of width <paramref name="headDim"/>.</summary>
    public MultiSubspaceSelfAttention(long dim, int heads, int headDim, double dropout = 0.0,
        bool causal = false, bool fast = true) : base(nameof(MultiSubspaceSelfAttention))
    {
        long inner = (long)heads * headDim;
        qkv = nn.Linear(dim, inner, hasBias: false);
        if (!(heads == 1 && headDim == dim))
            to_out = nn.Sequential(("0", nn.Linear(inner, dim)), ("1", nn.Dropout(dropout)));
        Heads = heads;
        HeadDim = headDim;
        Dropout = dropout;
        Causal = causal;
        Fast = fast;
        RegisterComponents();
    }

    /// <summary>X [B, n, d] (already layer-normed) → MSSA(X) [B, n, d].</summary>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>As <see cref="forward(Tensor)"/> with a key-padding mask [B, n] (true = padding).</summary>
    public Tensor forward(Tensor x, Tensor? keyPadding)
    {
        using var scope = NewDisposeScope();
        var w = MixedPrecision.Linear(qkv, x, ComputeType);                           // [B, n, K·p]
        var o = SubspaceAttention.Attend(w, Heads, Causal, keyPadding, Dropout, training, Fast);   // [B, n, K·p]
        var y = OutputMap(o);                                                         // [B, n, d]
        return MixedPrecision.Out(y, ComputeType).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <c>to_out</c> (Linear, then Dropout) of the concatenated heads [B, n, K·p] → [B, n, d], the Linear in the compute
    /// type and the result left in it; <paramref name="o"/> itself when there is no output map.
    /// </summary>
    public Tensor OutputMap(Tensor o) => to_out is null ? o : MixedPrecision.Sequential(to_out, o, ComputeType);

    /// <summary>Attention maps softmax(W_k W_kᵀ/√p) [B, K, n, n] of a layer-normed input [B, n, d].</summary>
    public Tensor AttentionMaps(Tensor x, Tensor? keyPadding = null)
    {
        using var scope = NewDisposeScope();
        return SubspaceAttention.Maps(qkv.forward(x), Heads, Causal, keyPadding).MoveToOuterDisposeScope();
    }
}
