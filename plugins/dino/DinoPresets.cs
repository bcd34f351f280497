using Crate.Core.Contract;

namespace Crate.Plugins.Dino;

/// <summary>
/// The presets of the dino task. Both models share each preset's recipe (data, crops, head, schedules, batch,
/// epochs); only backbone keys differ per model. The recipe is DINO's (facebookresearch/dino main_dino.py): no
/// CRATE-DINO recipe is published (docs/paper.md §3d).
/// </summary>
public static class DinoPresets
{
    private static Dictionary<string, string> Values(params (string Key, string Value)[] kv) => kv.ToDictionary(x => x.Key, x => x.Value);

    private static Dictionary<string, IReadOnlyDictionary<string, string>> PerModel(Dictionary<string, string> crate, Dictionary<string, string> vit) =>
        new() { [DinoShape.Crate] = crate, [DinoShape.Vit] = vit };

    /// <summary>CI: 256 training / 128 test Fashion-MNIST images, 2 global 28px + 2 local 14px crops, d=32, 2 layers, K=64, 2 epochs.</summary>
    public static Preset Smoke { get; } = new("smoke",
        "seconds per model: 256 training / 128 test Fashion-MNIST images, 2x28px + 2x14px crops, d=32, 2 layers, head 64-32-64, 2 epochs",
        Values(
            ("data.dataset", "fashion-mnist"), ("data.train_limit", "1200"), ("data.test_limit", "128"),
            ("data.global_size", "28"), ("data.local_size", "14"), ("data.local_crops", "2"),
            ("model.patch_size", "7"), ("model.channels", "1"), ("model.depth", "2"),
            ("dino.out_dim", "64"), ("dino.hidden_dim", "64"), ("dino.bottleneck_dim", "32"), ("dino.teacher_temp", "0.04"), ("dino.warmup_teacher_temp_epochs", "0"),
            ("train.optimizer", "adamw"), ("train.base_lr", "4e-3"), ("train.min_lr", "1e-6"), ("train.weight_decay", "0.04"),
            ("train.weight_decay_end", "0.4"), ("train.grad_clip", "0"), ("train.batch_size", "32"), ("train.epochs", "2"), ("train.warmup_steps", "2"),
            ("eval.batch_size", "128"), ("eval.probe_max_iter", "100"), ("eval.whitebox_samples", "32"), ("eval.attention_images", "2")),
        PerModel(
            Values(("model.dim", "32"), ("model.heads", "2")),
            Values(("model.dim", "32"), ("model.heads", "2"))));

    /// <summary>
    /// The CPU default on the shipped Fashion-MNIST subset (12,000 / 2,000 images): 2 global 28px crops and 2 local
    /// 14px crops, patch 7 (16 and 4 patches), head 256-64 with K = 256 prototypes, AdamW base lr 2e-3 per 256
    /// (1e-3 at batch 128), 1 warm-up epoch, 12 epochs, teacher temperature 0.02 throughout, momentum 0.99 → 1.
    /// CRATE d=128 (4 layers, 4 heads) against ViT d=64 (4 layers, 2 heads): half the width and about the same
    /// number of backbone parameters, as the vit task pairs them. DINO's temperatures (0.04 → 0.07) and K = 1024
    /// collapsed to a uniform teacher within 2 epochs here (plugins/dino/README.md); the sharper teacher did not.
    /// </summary>
    public static Preset Small { get; } = new("small",
        "CPU default: shipped Fashion-MNIST subset, 2x28px + 2x14px crops, patch 7, head 256-64-256, teacher temperature 0.02, AdamW 1e-3 at batch 128, momentum 0.99, 12 epochs; CRATE d=128 vs ViT d=64",
        Values(
            ("data.dataset", "fashion-mnist"), ("data.global_size", "28"), ("data.local_size", "14"), ("data.local_crops", "2"),
            ("model.patch_size", "7"), ("model.channels", "1"),
            ("dino.out_dim", "256"), ("dino.hidden_dim", "256"), ("dino.bottleneck_dim", "64"), ("dino.warmup_teacher_temp", "0.02"),
            ("dino.teacher_temp", "0.02"), ("dino.warmup_teacher_temp_epochs", "0"),
            ("dino.momentum_teacher", "0.99"), ("train.optimizer", "adamw"), ("train.base_lr", "2e-3"), ("train.min_lr", "1e-6"),
            ("train.weight_decay", "0.04"), ("train.weight_decay_end", "0.4"), ("train.grad_clip", "0"), ("train.batch_size", "128"),
            ("train.epochs", "12"), ("train.warmup_epochs", "1"), ("eval.batch_size", "500"), ("eval.probe_max_iter", "300"), ("eval.whitebox_samples", "256"),
            ("eval.attention_images", "4")),
        PerModel(
            Values(("model.dim", "128"), ("model.depth", "4"), ("model.heads", "4")),
            Values(("model.dim", "64"), ("model.depth", "4"), ("model.heads", "2"))));

    /// <summary>
    /// DINO's ViT-S/16 recipe on ImageNet-1K through <c>imagefolder</c> (main_dino.py; the README's "boosting"
    /// temperatures): 2 × 224 global and 10 × 96 local crops, head 2048-256-65,536 with the last layer's norm fixed,
    /// batch 1024 accumulated from micro-batches of 64, 100 epochs, AdamW base lr 5e-4 per 256 (2e-3 at 1024) with
    /// 10 warm-up epochs then cosine to 1e-6, weight decay 0.04 → 0.4, per-tensor clip 3.0, last layer frozen in
    /// epoch 1, teacher 0.04 → 0.07 over 30 epochs, momentum 0.996 → 1. CRATE-S against ViT-S.
    /// </summary>
    public static Preset Paper { get; } = new("paper",
        "ImageNet-1K via imagefolder, 2x224 + 10x96 crops, patch 16, head 2048-256-65536, AdamW 2e-3 at batch 1024 (micro 64), 100 epochs (10 warm-up); CRATE-S vs ViT-S",
        Values(
            ("data.dataset", "imagefolder"), ("data.global_size", "224"), ("data.local_size", "96"), ("data.local_crops", "10"),
            ("data.workers", "8"), ("data.prefetch", "true"), ("model.size", "S"), ("model.patch_size", "16"), ("model.channels", "3"),
            ("dino.out_dim", "65536"), ("dino.hidden_dim", "2048"), ("dino.bottleneck_dim", "256"), ("dino.warmup_teacher_temp_epochs", "30"),
            ("train.optimizer", "adamw"), ("train.base_lr", "5e-4"), ("train.min_lr", "1e-6"), ("train.weight_decay", "0.04"),
            ("train.weight_decay_end", "0.4"), ("train.grad_clip", "0"), ("train.batch_size", "1024"), ("train.micro_batch", "64"),
            ("train.epochs", "100"), ("train.warmup_epochs", "10"), ("eval.knn_every_epoch", "false"), ("eval.batch_size", "256"),
            ("eval.whitebox_samples", "512"), ("eval.attention_images", "8")),
        PerModel(Values(), Values()));

    /// <summary>smoke, small, paper.</summary>
    public static IReadOnlyList<Preset> All { get; } = [Smoke, Small, Paper];
}
