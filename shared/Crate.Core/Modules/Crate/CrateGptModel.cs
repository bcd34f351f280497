using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// CRATE-GPT (docs/paper.md §3f, reference <c>crate_gpt.py</c>): token + position embedding, L CRATE-GPT
/// blocks, and directly the output head tied to <c>transformer.wte</c>; no final LayerNorm.
/// State_dict names: <c>transformer.wte.weight</c>, <c>transformer.wpe.weight</c>,
/// <c>transformer.h.{i}.prenorm_1.*</c>, <c>.attn.c_attn.weight</c>, <c>.attn.c_proj.*</c>,
/// <c>.prenorm_2.*</c>, <c>.ista.weight</c>. The reference file additionally holds <c>lm_head.weight</c>
/// (tied, same tensor) and a causal buffer <c>transformer.h.{i}.attn.bias</c>; a loader should skip both.
/// Init: Linear and Embedding N(0, 0.02), biases 0, <c>c_proj</c> N(0, 0.02/√(2L)), D kaiming-uniform.
/// </summary>
public sealed class CrateGptModel : nn.Module<Tensor, Tensor>, ILinearHeadLanguageModel
{
    private readonly GptTransformer<CrateGptBlock> transformer;

    /// <summary>The configuration this model was built from.</summary>
    public GptConfig Config { get; }

    /// <summary>Builds CRATE-GPT with the reference initialisation.</summary>
    public CrateGptModel(GptConfig config) : base(nameof(CrateGptModel))
    {
        config.Validate();
        Config = config;
        transformer = new GptTransformer<CrateGptBlock>(config,
            Enumerable.Range(0, config.NLayer).Select(_ => new CrateGptBlock(config)), finalNorm: false);
        RegisterComponents();
        GptTransformer<CrateGptBlock>.InitNanoGpt(this, config.NLayer);
    }

    /// <summary>The embeddings and blocks (<c>transformer.*</c>).</summary>
    public GptTransformer<CrateGptBlock> Transformer => transformer;

    /// <summary>The blocks in order, for layer-wise measurements.</summary>
    public IReadOnlyList<CrateGptBlock> Layers => transformer.h.ToList();

    /// <summary>Switches every block between the fast and the plain formulas.</summary>
    public bool Fast
    {
        get => transformer.h.Count == 0 || transformer.h[0].attn.Fast;
        set { foreach (var block in transformer.h) { block.attn.Fast = value; block.ista.Fast = value; } }
    }

    /// <summary>Token ids [B, T] (int64) → next-token logits [B, T, V].</summary>
    public override Tensor forward(Tensor idx) => transformer.Logits(idx, Config.BlockSize);

    /// <inheritdoc />
    public Tensor Hidden(Tensor idx) => transformer.Hidden(idx, Config.BlockSize);

    /// <inheritdoc />
    public Tensor HeadWeight => transformer.wte.weight!;

    /// <inheritdoc/>
    public ScalarType? HeadComputeType => transformer.ComputeType;

    /// <summary>
    /// Keys the reference <c>crate_gpt.py</c> state_dict holds beyond ours, to pass as <c>ignore</c> to
    /// <c>Checkpoint.Load</c>: the tied <c>lm_head.weight</c> and the causal buffers <c>transformer.h.{i}.attn.bias</c>.
    /// </summary>
    public static IReadOnlyList<string> ReferenceExtraKeys(GptConfig config) => Gpt2Model.ReferenceExtraKeys(config);

    /// <summary>The embedded input Z^1 = wte(idx) + wpe(pos) [B, T, d] (dropout applied in training).</summary>
    public Tensor Embed(Tensor idx)
    {
        using var scope = NewDisposeScope();
        var pos = arange(0, idx.shape[1], dtype: ScalarType.Int64, device: idx.device);   // [T]
        return transformer.drop.forward(transformer.wte.forward(idx) + transformer.wpe.forward(pos))
            .MoveToOuterDisposeScope();                                                  // [B, T, d]
    }
}
