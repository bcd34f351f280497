using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.WhiteBox;

/// <summary>
/// The white-box quantities of docs/paper.md §4, per sample, in float64. Tokens are rows: a sample
/// is X ∈ [n, m] (n tokens of width m), the paper's Z = Xᵀ ∈ R^{m×n}, so ZᵀZ = X Xᵀ is the n×n Gram.
/// </summary>
public static class CodingRate
{
    /// <summary>ε² of the reference measurement (the constant 0.01 in <c>vis_utils/coding_rate.py</c>).</summary>
    public const double DefaultEpsSquared = 0.01;

    /// <summary>
    /// R(Z) = ½ logdet(I_n + d/(n ε²) ZᵀZ) per sample of <paramref name="z"/> [B, n, d] → [B].
    /// With <paramref name="normalizeTokens"/> each token is first scaled to unit ℓ2 norm (all-zero
    /// tokens stay zero), the protocol the reference uses for R^c.
    /// </summary>
    public static double[] Rate(Tensor z, double epsSquared = DefaultEpsSquared, bool normalizeTokens = true)
    {
        using var scope = NewDisposeScope();
        var x = z.detach().to_type(ScalarType.Float64);               // [B, n, d]
        if (normalizeTokens)
            x = NormalizeRows(x);
        long n = x.shape[1], d = x.shape[2];
        return HalfLogDetGram(x, d / (n * epsSquared)).data<double>().ToArray();
    }

    /// <summary>
    /// R^c(Z | U_[K]) = ½ Σ_k logdet(I_n + p/(n ε²) (U_kᵀZ)ᵀ(U_kᵀZ)) per sample, from the projection
    /// <paramref name="w"/> = U·LN(Z) [B, n, K·p] split into K heads; every token's p-vector is
    /// ℓ2-normalised within its head first when <paramref name="normalizeTokens"/> (the reference protocol).
    /// </summary>
    public static double[] CompressionTerm(Tensor w, int heads, double epsSquared = DefaultEpsSquared,
        bool normalizeTokens = true)
    {
        using var scope = NewDisposeScope();
        long b = w.shape[0], n = w.shape[1], p = w.shape[2] / heads;
        var x = w.detach().to_type(ScalarType.Float64)
            .view(b, n, heads, p).transpose(1, 2);                    // [B, K, n, p]
        if (normalizeTokens)
            x = NormalizeRows(x);
        var perHead = HalfLogDetGram(x, p / (n * epsSquared));        // [B, K]
        return perHead.sum(1).data<double>().ToArray();               // [B]
    }

    /// <summary>Fraction of entries that are exactly zero per sample of <paramref name="z"/> [B, ...] → [B].</summary>
    public static double[] ZeroFraction(Tensor z)
    {
        using var scope = NewDisposeScope();
        var flat = z.detach().reshape(z.shape[0], -1);                // [B, n·d]
        return flat.eq(0).to_type(ScalarType.Float64).mean([1]).data<double>().ToArray();
    }

    /// <summary>
    /// ½ logdet(I + a·X Xᵀ) over the last two axes of <paramref name="x"/> [..., n, m] → [...], through
    /// the smaller Gram (logdet(I_n + a X Xᵀ) = logdet(I_m + a XᵀX)) and a Cholesky factor.
    /// </summary>
    public static Tensor HalfLogDetGram(Tensor x, double a)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[^2], m = x.shape[^1];
        var gram = n <= m ? matmul(x, x.transpose(-1, -2)) : matmul(x.transpose(-1, -2), x);   // [..., k, k]
        long k = Math.Min(n, m);
        var spd = eye(k, dtype: x.dtype, device: x.device) + a * gram;
        var chol = linalg.cholesky(spd);                              // SPD: I + a·Gram, a > 0
        var logdet = 2.0 * chol.diagonal(0, -2, -1).log().sum(-1);    // [...]
        return (0.5 * logdet).MoveToOuterDisposeScope();
    }

    private static Tensor NormalizeRows(Tensor x) =>
        x / linalg.vector_norm(x, 2, [-1], keepdim: true).clamp_min(1e-300);
}
