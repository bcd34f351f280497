using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// nanoGPT's <c>transformer</c> ModuleDict: token embedding <c>wte</c>, position embedding <c>wpe</c>,
/// dropout, blocks <c>h.{i}</c>, and (GPT-2 only) the final LayerNorm <c>ln_f</c>.
/// </summary>
public sealed class GptTransformer<TBlock> : nn.Module, IMixedPrecision where TBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>Token embedding [V, d]; also the (tied) output head.</summary>
    public readonly Embedding wte;

    /// <summary>Learned position embedding [T, d].</summary>
    public readonly Embedding wpe;

    /// <summary>Embedding dropout.</summary>
    public readonly Dropout drop;

    /// <summary>The blocks.</summary>
    public readonly ModuleList<TBlock> h;

    /// <summary>Final LayerNorm (null for CRATE-GPT, which has none).</summary>
    public readonly LayerNorm? ln_f;

    /// <summary>Compute type of the tied lm_head (<see cref="MixedPrecision"/>); the blocks carry their own.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Assembles the container from its blocks.</summary>
    public GptTransformer(GptConfig config, IEnumerable<TBlock> blocks, bool finalNorm) : base("GptTransformer")
    {
        wte = nn.Embedding(config.VocabSize, config.NEmbd);
        wpe = nn.Embedding(config.BlockSize, config.NEmbd);
        drop = nn.Dropout(config.Dropout);
        h = new ModuleList<TBlock>(blocks.ToArray());
        if (finalNorm)
            ln_f = nn.LayerNorm(config.NEmbd, 1e-5, bias: config.Bias);
        RegisterComponents();
    }

    /// <summary>Token ids [B, T] (int64) → logits [B, T, V] through the blocks and the tied head.</summary>
    public Tensor Logits(Tensor idx, int blockSize)
    {
        using var scope = NewDisposeScope();
        var x = Hidden(idx, blockSize);                                        // [B, T, d]
        return MixedPrecision.Out(MixedPrecision.Linear(x, wte.weight!, null, ComputeType), ComputeType).MoveToOuterDisposeScope(); // [B, T, V], lm_head = wte
    }

    /// <summary>Token ids [B, T] (int64) → the tied head's input [B, T, d]: the blocks' output, through <c>ln_f</c> where there is one.</summary>
    public Tensor Hidden(Tensor idx, int blockSize)
    {
        using var scope = NewDisposeScope();
        long t = idx.shape[1];
        if (t > blockSize)
            throw new ArgumentException($"Sequence length {t} exceeds the block size {blockSize}.");
        var pos = arange(0, t, dtype: ScalarType.Int64, device: idx.device);   // [T]
        var x = drop.forward(wte.forward(idx) + wpe.forward(pos));             // [B, T, d]
        foreach (var block in h)
            x = block.forward(x);                                              // [B, T, d]
        if (ln_f is not null)
            x = ln_f.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>nanoGPT init: Linear and Embedding N(0, 0.02), biases 0, then every <c>c_proj.weight</c> N(0, 0.02/√(2L)).</summary>
    internal static void InitNanoGpt(nn.Module model, int nLayer)
    {
        ModuleInit.NormalLinears(model, 0.02);
        using var _ = no_grad();
        foreach (var (_, module) in model.named_modules())
            if (module is Embedding embedding)
                nn.init.normal_(embedding.weight!, 0.0, 0.02);
        foreach (var (name, parameter) in model.named_parameters())
            if (name.EndsWith("c_proj.weight", StringComparison.Ordinal))
                nn.init.normal_(parameter, 0.0, 0.02 / Math.Sqrt(2.0 * nLayer));
    }
}
