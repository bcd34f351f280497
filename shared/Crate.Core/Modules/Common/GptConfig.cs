namespace Crate.Core.Modules;

/// <summary>
/// Hyper-parameters shared by nanoGPT's GPT-2 and CRATE-GPT (docs/paper.md §3f): context
/// <see cref="BlockSize"/>, vocabulary padded to 50,304, L layers, K heads, width d.
/// <see cref="Bias"/> applies to GPT-2's Linears and LayerNorms (CRATE-GPT's are fixed as its reference).
/// </summary>
public sealed record GptConfig(
    int BlockSize = 1024,
    int VocabSize = 50304,
    int NLayer = 12,
    int NHead = 12,
    int NEmbd = 768,
    double Dropout = 0.0,
    bool Bias = true,
    double Eta = 0.1,
    double Lambda = 0.1,
    bool Fast = true)
{
    /// <summary>GPT-2 parameters (wte tied to lm_head, counted once; wpe included): V·d + T·d + L·(12d² + 13d) + 2d (with biases).</summary>
    public long Gpt2ParameterCount()
    {
        long d = NEmbd, b = Bias ? 1 : 0;
        long perBlock = (d + b * d) + (3 * d * d + b * 3 * d) + (d * d + b * d) + (d + b * d)
            + (4 * d * d + b * 4 * d) + (4 * d * d + b * d);
        return (long)VocabSize * d + (long)BlockSize * d + NLayer * perBlock + (d + b * d);
    }

    /// <summary>CRATE-GPT parameters (wte tied, counted once; wpe included; no ln_f): V·d + T·d + L·(3d² + 5d).</summary>
    public long CrateGptParameterCount()
    {
        long d = NEmbd;
        return (long)VocabSize * d + (long)BlockSize * d + NLayer * (3 * d * d + 5 * d);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public void Validate()
    {
        if (BlockSize <= 0 || VocabSize <= 0 || NLayer <= 0 || NHead <= 0 || NEmbd <= 0)
            throw new ArgumentException($"GPT config has a non-positive size: {this}.");
        if (NEmbd % NHead != 0)
            throw new ArgumentException($"GPT width {NEmbd} is not divisible by {NHead} heads.");
    }
}
