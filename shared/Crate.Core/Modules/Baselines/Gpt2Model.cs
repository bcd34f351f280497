using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The GPT-2 baseline as nanoGPT's <c>model.py</c> (docs/paper.md §3f comparison): token + position
/// embedding, pre-norm blocks, final <c>ln_f</c>, and an output head tied to <c>transformer.wte</c>.
/// State_dict names <c>transformer.wte.weight</c>, <c>transformer.wpe.weight</c>, <c>transformer.h.{i}.*</c>,
/// <c>transformer.ln_f.*</c>. The tied head is applied as linear(x, wte.weight) and not registered a
/// second time, so <c>parameters()</c> lists it once; nanoGPT files also hold <c>lm_head.weight</c> (the same
/// tensor), which a loader should skip.
/// </summary>
public sealed class Gpt2Model : nn.Module<Tensor, Tensor>, ILinearHeadLanguageModel
{
    private readonly GptTransformer<GptBlock> transformer;

    /// <summary>The configuration this model was built from.</summary>
    public GptConfig Config { get; }

    /// <summary>Builds GPT-2 with nanoGPT's initialisation.</summary>
    public Gpt2Model(GptConfig config) : base(nameof(Gpt2Model))
    {
        config.Validate();
        Config = config;
        transformer = new GptTransformer<GptBlock>(config,
            Enumerable.Range(0, config.NLayer).Select(_ => new GptBlock(config)), finalNorm: true);
        RegisterComponents();
        GptTransformer<GptBlock>.InitNanoGpt(this, config.NLayer);
    }

    /// <summary>The embeddings, blocks and final norm (<c>transformer.*</c>).</summary>
    public GptTransformer<GptBlock> Transformer => transformer;

    /// <summary>Switches every block between SDPA and the plain attention formula.</summary>
    public bool Fast
    {
        get => transformer.h.Count == 0 || transformer.h[0].attn.Fast;
        set { foreach (var block in transformer.h) block.attn.Fast = value; }
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
    /// Keys a nanoGPT state_dict holds beyond ours, to pass as <c>ignore</c> to
    /// <c>Checkpoint.Load</c>: the tied <c>lm_head.weight</c> and the causal buffers <c>transformer.h.{i}.attn.bias</c>
    /// of its non-flash attention.
    /// </summary>
    public static IReadOnlyList<string> ReferenceExtraKeys(GptConfig config) =>
        ["lm_head.weight", .. Enumerable.Range(0, config.NLayer).Select(i => $"transformer.h.{i}.attn.bias")];
}
