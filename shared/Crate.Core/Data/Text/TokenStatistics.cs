namespace Crate.Core.Data.Text;

/// <summary>Simple statistics of token files.</summary>
public static class TokenStatistics
{
    /// <summary>
    /// Entropy of the file's unigram (token frequency) distribution in nats per token,
    /// <c>H = -Σ_v p(v) ln p(v)</c> with <c>p(v) = count(v) / N</c>. It is the cross-entropy of the best
    /// model that ignores context, so a trained language model's validation loss must be below it.
    /// </summary>
    public static double UnigramEntropy(TokenFile file)
    {
        var counts = new long[65536];
        file.ForEachChunk(chunk =>
        {
            foreach (ushort id in chunk) counts[id]++;
        });
        return Entropy(counts, file.Length);
    }

    /// <summary>Unigram entropy (nats per token) of ids held in memory.</summary>
    public static double UnigramEntropy(ReadOnlySpan<ushort> ids)
    {
        var counts = new long[65536];
        foreach (ushort id in ids) counts[id]++;
        return Entropy(counts, ids.Length);
    }

    private static double Entropy(long[] counts, long total)
    {
        if (total == 0) throw new ArgumentException("no tokens");
        double h = 0;
        foreach (long c in counts)
        {
            if (c == 0) continue;
            double p = (double)c / total;
            h -= p * Math.Log(p);
        }
        return h;
    }
}
