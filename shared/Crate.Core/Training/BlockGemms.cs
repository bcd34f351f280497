namespace Crate.Core.Training;

/// <summary>
/// The forward matrix products (<see cref="GemmShape"/>) of the layers the tasks share, for a
/// <see cref="StepBenchmark"/>'s FLOP count: <c>batch</c> sequences of <c>tokens</c> each.
/// </summary>
public static class BlockGemms
{
    /// <summary>
    /// <paramref name="layers"/> CRATE layers of width <paramref name="dim"/> (MSSA with <paramref name="heads"/> heads of
    /// <paramref name="headDim"/>: the shared projection U, W Wᵀ and A W per head, the output map; then ISTA:
    /// <c>Y·M</c> with <c>M = I + η(D − DᵀD)</c> made once per call when <paramref name="fast"/>, else Y·D, Y·Dᵀ and (·)·D).
    /// </summary>
    public static IEnumerable<GemmShape> CrateLayers(string prefix, int layers, long batch, long tokens, long dim, long heads, long headDim, bool fast,
        bool backward = true)
    {
        long rows = batch * tokens, inner = heads * headDim;
        yield return new($"{prefix}mssa.qkv", rows, dim, inner, layers, Backward: backward);
        foreach (var g in Attention(prefix + "mssa", layers, batch, tokens, heads, headDim, backward)) yield return g;
        yield return new($"{prefix}mssa.out", rows, inner, dim, layers, Backward: backward);
        if (fast)
        {
            yield return new($"{prefix}ista.YM", rows, dim, dim, layers, Backward: backward);
            yield return new($"{prefix}ista.DtD", dim, dim, dim, layers, Backward: backward);
        }
        else yield return new($"{prefix}ista.YD", rows, dim, dim, 3L * layers, Backward: backward);
    }

    /// <summary>
    /// <paramref name="layers"/> pre-norm transformer blocks (ViT, GPT-2, BERT): query/key/value maps, attention,
    /// output projection and an MLP of <paramref name="hidden"/> units.
    /// </summary>
    public static IEnumerable<GemmShape> TransformerBlocks(string prefix, int layers, long batch, long tokens, long dim, long heads, long hidden,
        bool backward = true)
    {
        long rows = batch * tokens;
        yield return new($"{prefix}attn.qkv", rows, dim, 3 * dim, layers, Backward: backward);
        foreach (var g in Attention(prefix + "attn", layers, batch, tokens, heads, dim / heads, backward)) yield return g;
        yield return new($"{prefix}attn.proj", rows, dim, dim, layers, Backward: backward);
        yield return new($"{prefix}mlp.fc1", rows, dim, hidden, layers, Backward: backward);
        yield return new($"{prefix}mlp.fc2", rows, hidden, dim, layers, Backward: backward);
    }

    /// <summary>Attention's two batched products per head: scores <c>Q·Kᵀ</c> and the weighted sum <c>A·V</c> (causal masks computed in full).</summary>
    public static IEnumerable<GemmShape> Attention(string prefix, int layers, long batch, long tokens, long heads, long headDim, bool backward = true)
    {
        yield return new($"{prefix}.scores", batch * heads * tokens, headDim, tokens, layers, Linear: false, Backward: backward);
        yield return new($"{prefix}.values", batch * heads * tokens, tokens, headDim, layers, Linear: false, Backward: backward);
    }
}
