using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>MSSA against hand-computed values and per-head direct computation; fast path against the plain formula.</summary>
public class MssaTests
{
    // One head, p = d = 2 (so no output map, as the reference), U = I; tokens (1, 0) and (0, 1).
    // Logits W Wᵀ/√2 = I/√2, so each row's softmax is (σ, 1 − σ) with σ = 1/(1 + e^{−1/√2}) = 0.66976155.
    private const double Sigma = 0.6697615493266569;

    private static MultiSubspaceSelfAttention IdentityMssa(bool fast)
    {
        var m = new MultiSubspaceSelfAttention(2, heads: 1, headDim: 2, fast: fast);
        Assert.Null(m.to_out);   // K = 1, p = d: no output map, as project_out = False in the reference
        using (no_grad())
            m.qkv.weight!.copy_(eye(2));
        return m;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SingleHeadMatchesHandComputedSoftmax(bool fast)
    {
        using var scope = NewDisposeScope();
        using var m = IdentityMssa(fast);
        var x = eye(2).reshape(1, 2, 2);                                // [B=1, n=2, d=2]
        var y = m.forward(x);
        TensorAssert.Values([Sigma, 1 - Sigma, 1 - Sigma, Sigma], y, 1e-6);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CausalAndPaddingMasksMatchHandComputedValues(bool fast)
    {
        using var scope = NewDisposeScope();
        using var m = IdentityMssa(fast);
        var x = eye(2).reshape(1, 2, 2);
        m.Causal = true;                                                // query 0 sees key 0 only
        TensorAssert.Values([1, 0, 1 - Sigma, Sigma], m.forward(x), 1e-6);
        m.Causal = false;
        var pad = tensor(new[] { false, true }).reshape(1, 2);          // token 1 is padding
        TensorAssert.Values([1, 0, 1, 0], m.forward(x, pad), 1e-6);
    }

    [Fact]
    public void OutputMapHasBiasAndProjectionHasNone()
    {
        using var m = new MultiSubspaceSelfAttention(8, heads: 2, headDim: 4);
        Assert.Equal(["qkv.weight", "to_out.0.weight", "to_out.0.bias"], m.state_dict().Keys);
        Assert.Null(m.qkv.bias);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void MultiHeadEqualsDirectPerHeadComputation(bool fast)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        int heads = 3, p = 4, d = 10;
        using var m = new MultiSubspaceSelfAttention(d, heads, p, fast: fast);
        var x = randn(2, 5, d);
        var y = m.forward(x);

        var w = matmul(x, m.qkv.weight!.t());                            // [B, n, K·p]
        var parts = new List<Tensor>();
        for (int k = 0; k < heads; k++)
        {
            var wk = w.narrow(2, k * p, p);                              // [B, n, p]
            var a = nn.functional.softmax(matmul(wk, wk.transpose(1, 2)) / Math.Sqrt(p), -1);
            parts.Add(matmul(a, wk));
        }
        var lin = (TorchSharp.Modules.Linear)m.to_out![0];
        var expected = matmul(cat(parts, 2), lin.weight!.t()) + lin.bias!;
        TensorAssert.Close(expected, y, 1e-5);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void FastPathEqualsPlainFormulaWithGradients(bool causal, bool padded)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var w = randn(2, 6, 12);
        var upstream = randn(2, 6, 12);
        var pad = padded ? tensor(new[] { false, false, false, false, true, true, false, false, false, false, false, true }).reshape(2, 6) : null;
        (Tensor Out, Tensor Grad) Run(bool fast)
        {
            var ww = w.clone().requires_grad_(true);
            var o = SubspaceAttention.Attend(ww, heads: 3, causal: causal, keyPadding: pad, fast: fast);
            (o * upstream).sum().backward();
            return (o.detach(), ww.grad!);
        }
        var plain = Run(false);
        var quick = Run(true);
        TensorAssert.Close(plain.Out, quick.Out, 1e-5, "output");
        TensorAssert.Close(plain.Grad, quick.Grad, 1e-5, "dL/dW");
    }

    [Fact]
    public void AttentionMapsAreTheSoftmaxOfTheSymmetricLogits()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        using var m = new MultiSubspaceSelfAttention(8, heads: 2, headDim: 4);
        var x = randn(3, 5, 8);
        var maps = m.AttentionMaps(x);
        Assert.Equal(new long[] { 3, 2, 5, 5 }, maps.shape);
        TensorAssert.Close(ones(3, 2, 5), maps.sum(-1), 1e-6);
        var w = m.qkv.forward(x).view(3, 5, 2, 4).transpose(1, 2);           // [B, K, n, p]
        var expected = nn.functional.softmax(matmul(w, w.transpose(-1, -2)) / 2.0, -1);
        TensorAssert.Close(expected, maps, 1e-6);
    }
}
