using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The attention kernel shared by every CRATE variant, step 1 of a CRATE layer (docs/paper.md §1.1, the
/// SSA and MSSA equations; §1.2 steps 3-6; §6.6):
/// <code>
///   SSA(Z | U_k) = (U_kᵀZ) · softmax( (U_kᵀZ)ᵀ (U_kᵀZ) / √p )
/// </code>
/// one projection W_k = U_kᵀZ serves as query, key and value, head by head. Input and output are the
/// concatenated heads [B, n, K·p]; the output linear map and the residual belong to the caller.
/// <see cref="Attend"/> computes it as written (the plain path) or through scaled_dot_product_attention
/// with q = k = v = W_k (the fast path, the same function).
/// </summary>
public static class SubspaceAttention
{
    /// <summary>
    /// Computes softmax(W_k W_kᵀ/√p) W_k for every head k of <paramref name="w"/> [B, n, K·p].
    /// <paramref name="keyPadding"/> is a bool [B, n] with true where a token is padding (ignored as a
    /// key, PyTorch's key_padding_mask convention); <paramref name="causal"/> lets query i see keys
    /// j ≤ i only. <paramref name="fast"/> uses scaled_dot_product_attention(q = k = v = W_k), which
    /// computes the same function (scale 1/√p is its default).
    /// </summary>
    public static Tensor Attend(Tensor w, int heads, bool causal = false, Tensor? keyPadding = null,
        double dropout = 0.0, bool training = false, bool fast = true)
    {
        using var scope = NewDisposeScope();
        long b = w.shape[0], n = w.shape[1], inner = w.shape[2];
        if (inner % heads != 0)
            throw new ArgumentException($"Projection width {inner} is not divisible by {heads} heads.", nameof(w));
        long p = inner / heads;
        var wh = w.view(b, n, heads, p).transpose(1, 2);              // [B, K, n, p]
        var allowed = AllowedKeys(n, causal, keyPadding, w.device);    // [B|1, 1, n|1, n] bool or null
        double pDrop = training ? dropout : 0.0;

        var o = fast ? Fused(wh, allowed, causal, pDrop) : Plain(wh, allowed, p, pDrop);   // [B, K, n, p]
        return o.transpose(1, 2).reshape(b, n, inner).MoveToOuterDisposeScope();             // [B, n, K·p]
    }

    /// <summary>The paper's formula as written: softmax(W_k W_kᵀ/√p) W_k per head, on [B, K, n, p].</summary>
    private static Tensor Plain(Tensor wh, Tensor? allowed, long p, double pDrop)
    {
        var logits = matmul(wh, wh.transpose(-1, -2)) * (1.0 / Math.Sqrt(p));   // [B, K, n, n]
        if (allowed is not null)
            logits = logits.masked_fill(allowed.logical_not(), double.NegativeInfinity);
        var attn = MixedPrecision.Softmax(logits, -1);                           // rows are queries; float32 statistics
        attn = nn.functional.dropout(attn, pDrop, pDrop > 0);
        return matmul(attn, wh);                                                 // [B, K, n, p]
    }

    /// <summary>
    /// The tested optimisation: scaled_dot_product_attention with q = k = v = W_k (its default scale is
    /// 1/√p); with an explicit mask the causal part is already inside it. Through <see cref="MixedPrecision.Attention"/>,
    /// so a bf16 input on the CPU is attended in float32 with one cast shared by q = k = v. Tested equal to <see cref="Plain"/>
    /// in value and gradient (<c>MssaTests</c>, <c>CrateModelTests.FastAndPlainClassifiersAgreeInValueAndGradient</c>).
    /// </summary>
    private static Tensor Fused(Tensor wh, Tensor? allowed, bool causal, double pDrop) =>
        MixedPrecision.Attention(wh, wh, wh, allowed, pDrop, causal && allowed is null);   // [B, K, n, p]; q = k = v share one cast

    /// <summary>
    /// The softmax attention maps softmax(W_k W_kᵀ/√p) [B, K, n, n] (rows are queries), e.g. for the
    /// [CLS]-row saliency maps of docs/paper.md §3b.
    /// </summary>
    public static Tensor Maps(Tensor w, int heads, bool causal = false, Tensor? keyPadding = null)
    {
        using var scope = NewDisposeScope();
        long b = w.shape[0], n = w.shape[1], p = w.shape[2] / heads;
        var wh = w.view(b, n, heads, p).transpose(1, 2);               // [B, K, n, p]
        var logits = matmul(wh, wh.transpose(-1, -2)) * (1.0 / Math.Sqrt(p));   // [B, K, n, n]
        var allowed = AllowedKeys(n, causal, keyPadding, w.device);
        if (allowed is not null)
            logits = logits.masked_fill(allowed.logical_not(), double.NegativeInfinity);
        return nn.functional.softmax(logits, -1).MoveToOuterDisposeScope();
    }

    /// <summary>Bool mask of the (query, key) pairs that may attend, or null when all may.</summary>
    internal static Tensor? AllowedKeys(long n, bool causal, Tensor? keyPadding, Device device)
    {
        Tensor? allowed = null;
        if (causal)
            allowed = ones(n, n, ScalarType.Bool, device).tril().view(1, 1, n, n);      // [1, 1, n, n]
        if (keyPadding is not null)
        {
            if (keyPadding.dim() != 2 || keyPadding.shape[1] != n)
                throw new ArgumentException(
                    $"keyPadding must be [B, {n}] (true = padding), got [{string.Join(", ", keyPadding.shape)}].");
            var keys = keyPadding.to_type(ScalarType.Bool).logical_not()
                .view(keyPadding.shape[0], 1, 1, n);                                    // [B, 1, 1, n]
            allowed = allowed is null ? keys : allowed.logical_and(keys);                // [B, 1, n|1, n]
        }
        return allowed;
    }
}
