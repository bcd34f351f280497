using Crate.Core.Contract;

namespace Crate.Plugins.Mae;

/// <summary>
/// The paper's CRATE-MAE results (docs/paper.md §3c, the book's table [B7]): linear probing of [CLS] features
/// of models pre-trained on ImageNet-1K (800 epochs, AdamW base lr 3e-5, wd 0.1, batch 4096, mask 0.75, patch 16,
/// 224 px), probed on CIFAR-10, CIFAR-100, Oxford Flowers-102 and Oxford-IIIT Pets, plus the parameter counts
/// (every tensor counted). Each value names the dataset it was measured on: a run on another dataset (the
/// shipped Fashion-MNIST) is not comparable with it. The report shows the first value per (model, metric): the
/// <c>paper</c> preset's pair (CRATE-MAE-B, ViT-MAE-B) on CIFAR-10 first. Reconstruction losses, fine-tuning
/// results and the mask-ratio ablation are not published (§3c: NOT FOUND).
/// </summary>
public static class MaePaperValues
{
    private const string Source = "CRATE-MAE (ICLR 2024, arXiv 2404.02446) linear-probe table as reprinted in [B7] (docs/paper.md §3c)";
    private const string Recipe = "pre-trained on ImageNet-1K, 800 epochs (40 warm-up), AdamW base lr 3e-5 wd 0.1, batch 4096, mask 0.75, patch 16, 224px; linear probe on [CLS]";

    /// <summary>(named config, model, CIFAR-10, CIFAR-100, Flowers-102, Pets, reported parameters), in report order.</summary>
    public static IReadOnlyList<(string Name, string Model, double Cifar10, double Cifar100, double Flowers, double Pets, double Parameters)> Table { get; } =
    [
        ("CRATE-MAE-B", MaeModels.Crate, 80.9, 60.1, 61.8, 46.2, 44.6e6),
        ("ViT-MAE-B", MaeModels.Mae, 87.9, 68.0, 66.4, 80.1, 143.8e6),
        ("CRATE-MAE-S", MaeModels.Crate, 79.4, 56.6, 57.7, 40.6, 25.4e6),
        ("ViT-MAE-S", MaeModels.Mae, 79.9, 62.3, 66.8, 51.8, 47.6e6),
    ];

    /// <summary>The table as the contract's records: <c>linear_top1</c> per (model, probe dataset) and <c>parameters</c>.</summary>
    public static IReadOnlyList<PaperReference> References { get; } = Table
        .SelectMany(row => new[]
        {
            new PaperReference(row.Model, "linear_top1", row.Cifar10, $"{row.Name}, linear probe on CIFAR-10; {Recipe}", Source),
            new PaperReference(row.Model, "linear_top1", row.Cifar100, $"{row.Name}, linear probe on CIFAR-100; {Recipe}", Source),
            new PaperReference(row.Model, "linear_top1", row.Flowers, $"{row.Name}, linear probe on Oxford Flowers-102; {Recipe}", Source),
            new PaperReference(row.Model, "linear_top1", row.Pets, $"{row.Name}, linear probe on Oxford-IIIT Pets; {Recipe}", Source),
            new PaperReference(row.Model, "parameters", row.Parameters, $"{row.Name}, every tensor counted (frozen position tables included)", Source),
        })
        .ToList();
}
