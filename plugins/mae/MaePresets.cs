using Crate.Core.Contract;

namespace Crate.Plugins.Mae;

/// <summary>
/// The presets of the mae task. Both models share each preset's recipe (data, masking, optimiser, schedule,
/// batch, epochs, fine-tuning); only the architecture keys differ per model.
/// </summary>
public static class MaePresets
{
    private static Dictionary<string, string> Values(params (string Key, string Value)[] kv) => kv.ToDictionary(x => x.Key, x => x.Value);

    private static Dictionary<string, IReadOnlyDictionary<string, string>> PerModel(
        Dictionary<string, string> crate, Dictionary<string, string> mae) =>
        new() { [MaeModels.Crate] = crate, [MaeModels.Mae] = mae };

    /// <summary>Tests: 256 training / 128 test Fashion-MNIST images, 28 px patch 7, d = 32, two pre-training epochs, one fine-tuning epoch.</summary>
    public static Preset Smoke { get; } = new("smoke",
        "seconds per model: 256 training / 128 test Fashion-MNIST images, patch 7, d=32, 2 pre-training epochs + 1 fine-tuning epoch",
        Values(
            ("data.dataset", "fashion-mnist"), ("data.train_limit", "1200"), ("data.test_limit", "128"),
            ("data.random_resized_crop", "true"), ("data.crop_min_scale", "0.5"), ("data.hflip", "0.5"),
            ("model.image_size", "28"), ("model.patch_size", "7"), ("model.channels", "1"), ("model.num_classes", "10"),
            ("model.mask_ratio", "0.75"),
            ("train.optimizer", "adamw"), ("train.lr", "2e-3"), ("train.weight_decay", "0.05"), ("train.beta2", "0.95"),
            ("train.batch_size", "64"), ("train.epochs", "2"), ("train.warmup_steps", "2"),
            ("finetune.optimizer", "adamw"), ("finetune.lr", "2e-3"), ("finetune.weight_decay", "0.05"), ("finetune.batch_size", "64"),
            ("finetune.epochs", "1"), ("finetune.warmup_steps", "1"), ("finetune.layer_decay", "0.75"),
            ("eval.batch_size", "128"), ("eval.probe_max_iter", "100"), ("eval.whitebox_samples", "32"), ("eval.reconstruction_images", "2")),
        PerModel(
            Values(("model.dim", "32"), ("model.depth", "2"), ("model.heads", "2")),
            Values(("model.dim", "32"), ("model.depth", "2"), ("model.heads", "2"),
                ("model.decoder_dim", "32"), ("model.decoder_depth", "1"), ("model.decoder_heads", "2"))));

    /// <summary>
    /// The CPU default on the shipped Fashion-MNIST subset (12,000 / 2,000 images), sized by measurement
    /// (plugins/mae/README.md): 28 px patch 7 (16 patches, 4 visible), AdamW lr 1.5e-3 (β₂ 0.95), batch 128,
    /// 24 pre-training epochs and 5 fine-tuning epochs; probes fitted on 2,000 training images. CRATE-MAE d=96 with
    /// 3 + 3 layers against MAE d=64 with 3 encoder and 1 decoder layers (191k vs 213k parameters, every tensor counted).
    /// </summary>
    public static Preset Small { get; } = new("small",
        "CPU default: shipped Fashion-MNIST subset, 28px patch 7 (16 patches, 4 visible), AdamW 1.5e-3 (beta2 0.95), batch 128, 24 pre-training + 5 fine-tuning epochs; CRATE-MAE d=96 3+3 layers vs MAE d=64 3 + decoder 1",
        Values(
            ("data.dataset", "fashion-mnist"), ("data.random_resized_crop", "true"), ("data.crop_min_scale", "0.5"), ("data.hflip", "0.5"),
            ("model.image_size", "28"), ("model.patch_size", "7"), ("model.channels", "1"), ("model.num_classes", "10"),
            ("model.mask_ratio", "0.75"),
            ("train.optimizer", "adamw"), ("train.lr", "1.5e-3"), ("train.min_lr", "0"), ("train.weight_decay", "0.05"), ("train.beta2", "0.95"),
            ("train.batch_size", "128"), ("train.epochs", "24"), ("train.warmup_epochs", "0.5"),
            ("finetune.optimizer", "adamw"), ("finetune.lr", "1e-3"), ("finetune.min_lr", "1e-6"), ("finetune.weight_decay", "0.05"),
            ("finetune.batch_size", "128"), ("finetune.epochs", "5"), ("finetune.warmup_epochs", "0.2"), ("finetune.layer_decay", "0.75"),
            ("eval.batch_size", "500"), ("eval.probe_train_limit", "2000"), ("eval.probe_max_iter", "300"), ("eval.knn_every_epoch", "true"),
            ("eval.whitebox_samples", "256"), ("eval.reconstruction_images", "4")),
        PerModel(
            Values(("model.dim", "96"), ("model.depth", "3"), ("model.heads", "4")),
            Values(("model.dim", "64"), ("model.depth", "3"), ("model.heads", "4"),
                ("model.decoder_dim", "64"), ("model.decoder_depth", "1"), ("model.decoder_heads", "4"))));

    /// <summary>
    /// The paper's recipe (docs/paper.md §3c): ImageNet-1K through imagefolder, 224 px patch 16, mask 0.75, AdamW
    /// (β₂ 0.95 as MAE) lr 4.8e-4 = base lr 3e-5 × 4096/256 (MAE's scaling rule; §3c gives the base lr), wd 0.1,
    /// batch 4096 (micro 128), 800 epochs with 40 of warm-up, cosine to 0, RandomResizedCrop(0.2, 1) + flip;
    /// CRATE-MAE-B against ViT-MAE-B as the paper's table. Fine-tuning: MAE's ViT-B recipe (lr 2e-3 = 5e-4 ×
    /// 1024/256, wd 0.05, batch 1024, 100 epochs, 5 warm-up, layer decay 0.65; the paper reports no fine-tuning for
    /// CRATE-MAE). The probes fit on 100,000 training images (evenly spaced) to keep L-BFGS in memory.
    /// </summary>
    public static Preset Paper { get; } = new("paper",
        "ImageNet-1K via imagefolder, 224px patch 16, mask 0.75, AdamW lr 4.8e-4 (base 3e-5) wd 0.1 beta2 0.95, batch 4096 (micro 128), 800 epochs (40 warm-up); fine-tune 100 epochs layer decay 0.65; CRATE-MAE-B vs ViT-MAE-B",
        Values(
            ("data.dataset", "imagefolder"), ("data.random_resized_crop", "true"), ("data.crop_min_scale", "0.2"), ("data.hflip", "0.5"),
            ("data.workers", "8"), ("data.prefetch", "true"),
            ("model.image_size", "224"), ("model.patch_size", "16"), ("model.channels", "3"), ("model.num_classes", "1000"),
            ("model.mask_ratio", "0.75"), ("model.norm_pix_loss", "false"), ("model.lambda", "0.5"),
            ("train.optimizer", "adamw"), ("train.lr", "4.8e-4"), ("train.min_lr", "0"), ("train.weight_decay", "0.1"), ("train.beta2", "0.95"),
            ("train.batch_size", "4096"), ("train.micro_batch", "128"), ("train.epochs", "800"), ("train.warmup_epochs", "40"),
            ("finetune.optimizer", "adamw"), ("finetune.lr", "2e-3"), ("finetune.min_lr", "1e-6"), ("finetune.weight_decay", "0.05"),
            ("finetune.batch_size", "1024"), ("finetune.micro_batch", "128"), ("finetune.epochs", "100"), ("finetune.warmup_epochs", "5"),
            ("finetune.layer_decay", "0.65"),
            ("eval.batch_size", "256"), ("eval.probe_train_limit", "100000"), ("eval.whitebox_samples", "512"), ("eval.reconstruction_images", "8")),
        PerModel(
            Values(("model.size", "B")),
            Values(("model.size", "B"))));

    /// <summary>smoke, small, paper.</summary>
    public static IReadOnlyList<Preset> All { get; } = [Smoke, Small, Paper];
}
