using Crate.Core.Contract;
using static Crate.Core.Contract.PresetValues;

namespace Crate.Plugins.Vit;

/// <summary>
/// The presets of the vit task. Both models share each preset's recipe (data, optimizer, schedule,
/// batch, epochs); only architecture keys differ per model.
/// </summary>
public static class VitPresets
{
    private static Dictionary<string, IReadOnlyDictionary<string, string>> PerModel(
        Dictionary<string, string> crate, Dictionary<string, string> vit) =>
        PresetValues.PerModel((VisionShape.Crate, crate), (VisionShape.Vit, vit));

    /// <summary>CI: 512 training and 256 test images of the shipped Fashion-MNIST, tiny models, two epochs.</summary>
    public static Preset Smoke { get; } = new("smoke",
        "seconds per model: 512 training / 256 test Fashion-MNIST images, d=32, 2 layers, 2 epochs",
        Values(
            ("data.dataset", "fashion-mnist"), ("data.train_limit", "512"), ("data.test_limit", "256"),
            ("data.random_resized_crop", "true"), ("data.crop_min_scale", "0.5"), ("data.hflip", "0.5"),
            ("model.image_size", "28"), ("model.patch_size", "4"), ("model.channels", "1"), ("model.num_classes", "10"),
            ("model.depth", "2"), ("train.optimizer", "adamw"), ("train.lr", "2e-3"), ("train.weight_decay", "0.05"),
            ("train.batch_size", "64"), ("train.epochs", "2"), ("train.warmup_steps", "2"),
            ("eval.whitebox_samples", "32"), ("eval.attention_images", "2")),
        PerModel(
            Values(("model.dim", "32"), ("model.heads", "2")),
            Values(("model.dim", "32"), ("model.heads", "2"))));

    /// <summary>
    /// The CPU default on the shipped Fashion-MNIST subset (12,000 / 2,000 images): patch 7 (a 4x4 grid, 17
    /// tokens), AdamW lr 1e-3 with half an epoch of warm-up and cosine decay, batch 64, 12 epochs, flips.
    /// CRATE d=192 (6 layers, 6 heads) against ViT d=96 (6 layers, 3 heads): half the width and about the
    /// same number of parameters (685k vs 679k), as the paper pairs CRATE-T with ViT-T.
    /// </summary>
    public static Preset Small { get; } = new("small",
        "CPU default: shipped Fashion-MNIST subset (12,000 train / 2,000 test, 28px, patch 7), AdamW 1e-3, batch 64, 12 epochs; CRATE d=192 vs ViT d=96 (~0.68M parameters each)",
        Values(
            ("data.dataset", "fashion-mnist"), ("data.random_resized_crop", "false"), ("data.hflip", "0.5"),
            ("model.image_size", "28"), ("model.patch_size", "7"), ("model.channels", "1"), ("model.num_classes", "10"),
            ("train.optimizer", "adamw"), ("train.lr", "1e-3"), ("train.min_lr", "1e-5"), ("train.weight_decay", "0.05"),
            ("train.batch_size", "64"), ("train.epochs", "12"), ("train.warmup_epochs", "0.5"),
            ("eval.whitebox_samples", "256"), ("eval.attention_images", "4")),
        PerModel(
            Values(("model.dim", "192"), ("model.depth", "6"), ("model.heads", "6")),
            Values(("model.dim", "96"), ("model.depth", "6"), ("model.heads", "3"))));

    /// <summary>
    /// The paper's ImageNet-1K recipe (docs/paper.md §3a): 224 px, patch 16, Lion lr 2.4e-4, wd 0.5,
    /// batch 2048 (accumulated from micro-batches of 128), 150 epochs with 5 of linear warm-up then cosine,
    /// label smoothing 0.1, RandomResizedCrop + flip. CRATE-B against ViT-S, the pair of similar size
    /// (22.80M vs 22.05M parameters); other sizes with <c>--set model.size=T|S|L</c>.
    /// </summary>
    public static Preset Paper { get; } = new("paper",
        "ImageNet-1K via imagefolder, 224px patch 16, Lion lr 2.4e-4 wd 0.5, batch 2048 (micro 128), 150 epochs (5 warm-up), label smoothing 0.1; CRATE-B vs ViT-S",
        Values(
            ("data.dataset", "imagefolder"), ("data.random_resized_crop", "true"), ("data.crop_min_scale", "0.08"), ("data.hflip", "0.5"),
            ("data.workers", "8"), ("data.prefetch", "true"),
            ("model.image_size", "224"), ("model.patch_size", "16"), ("model.channels", "3"), ("model.num_classes", "1000"),
            ("train.optimizer", "lion"), ("train.lr", "2.4e-4"), ("train.min_lr", "0"), ("train.weight_decay", "0.5"),
            ("train.batch_size", "2048"), ("train.micro_batch", "128"), ("train.epochs", "150"), ("train.warmup_epochs", "5"),
            ("train.label_smoothing", "0.1"), ("eval.batch_size", "256"), ("eval.whitebox_samples", "512"), ("eval.attention_images", "8")),
        PerModel(
            Values(("model.size", "B")),
            Values(("model.size", "S"))));

    /// <summary>smoke, small, paper.</summary>
    public static IReadOnlyList<Preset> All { get; } = [Smoke, Small, Paper];
}
