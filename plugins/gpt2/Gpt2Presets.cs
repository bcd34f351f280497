using Crate.Core.Contract;
using static Crate.Core.Contract.PresetValues;

namespace Crate.Plugins.Gpt2;

/// <summary>
/// The presets. Each sets one recipe for both models (<see cref="Preset.Common"/>); only the architecture differs.
/// </summary>
public static class Gpt2Presets
{
    /// <summary>Seconds: a 2-layer, width-32 model, context 32, 4 steps, 2 validation batches.</summary>
    public static Preset Smoke { get; } = new("smoke", "CI, seconds: Moby-Dick, L=2 K=2 d=32, context 32, batch 4, 4 steps, 2 validation batches",
        Values(
            ("model.n_layer", "2"), ("model.n_head", "2"), ("model.n_embd", "32"), ("model.block_size", "32"),
            ("train.batch_size", "4"), ("train.max_steps", "4"), ("train.eval_every", "2"), ("train.lr", "1e-3"),
            ("train.warmup_steps", "1"), ("train.weight_decay", "0.1"), ("train.beta2", "0.95"), ("train.grad_clip", "1.0"),
            ("eval.batches", "2"), ("eval.batch_size", "4"), ("eval.whitebox_sequences", "4")),
        NoPerModel);

    /// <summary>The CPU default, measured on Moby-Dick (see the plugin README for the numbers).</summary>
    public static Preset Small { get; } = new("small",
        "CPU default, 8-15 minutes per model on 2 cores: Moby-Dick, L=4 K=4 d=128, context 128, batch 16, 600 steps, AdamW lr 1e-3 -> 1e-4 " +
        "(CRATE-GPT needs about 250 steps to leave the unigram plateau; plugins/gpt2/README.md)",
        Values(
            ("model.n_layer", "4"), ("model.n_head", "4"), ("model.n_embd", "128"), ("model.block_size", "128"),
            ("train.batch_size", "16"), ("train.max_steps", "600"), ("train.eval_every", "100"),
            ("train.lr", "1e-3"), ("train.min_lr", "1e-4"), ("train.warmup_steps", "50"),
            ("train.weight_decay", "0.1"), ("train.beta2", "0.95"), ("train.grad_clip", "1.0"),
            ("eval.batches", "0"), ("eval.batch_size", "32"), ("eval.whitebox_sequences", "16")),
        NoPerModel);

    /// <summary>
    /// docs/paper.md §3f: GPT-2-base shape on OpenWebText prepared by nanoGPT, batch 384 (micro-batch 12,
    /// 32 accumulation steps), 600k steps, AdamW β = (0.9, 0.95), wd 0.1, lr 6e-4 warm-up 2,000 then cosine to 6e-5.
    /// Grad clip 1.0 and the evaluation (200 batches of 12 every 2,000 steps) are nanoGPT defaults, not stated by the paper.
    /// </summary>
    public static Preset Paper { get; } = new("paper",
        "docs/paper.md §3f: OpenWebText (data.dataset=tokens, nanoGPT prepare.py), L=12 K=12 d=768, context 1024, batch 384 " +
        "(micro-batch 12), 600k steps, AdamW (0.9, 0.95) wd 0.1, lr 6e-4 warm-up 2k cosine to 6e-5; grad clip 1.0 is nanoGPT's default (UNCERTAIN for the paper)",
        Values(
            ("data.dataset", "tokens"),
            ("model.n_layer", "12"), ("model.n_head", "12"), ("model.n_embd", "768"), ("model.block_size", "1024"),
            ("model.vocab_size", "50304"), ("model.dropout", "0"),
            ("train.batch_size", "384"), ("train.micro_batch", "12"), ("train.max_steps", "600000"),
            ("train.lr", "6e-4"), ("train.min_lr", "6e-5"), ("train.warmup_steps", "2000"),
            ("train.beta1", "0.9"), ("train.beta2", "0.95"), ("train.weight_decay", "0.1"), ("train.grad_clip", "1.0"),
            ("train.eval_every", "2000"), ("eval.batches", "200"), ("eval.batch_size", "12"), ("eval.whitebox_sequences", "16")),
        NoPerModel);

    /// <summary>smoke, small, paper.</summary>
    public static IReadOnlyList<Preset> All { get; } = [Smoke, Small, Paper];
}
