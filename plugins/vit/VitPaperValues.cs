using Crate.Core.Contract;
using Crate.Core.Modules;

namespace Crate.Plugins.Vit;

/// <summary>
/// The paper's supervised ImageNet-1K results (docs/paper.md §3a, table "crate_comparison_with_sota" of
/// the book chapter that reproduces NeurIPS'23 Table 1): top-1 accuracy and parameter counts of CRATE-T/S/B/L
/// and ViT-T/S, all at 224 px, patch 16, 150 epochs with Lion (lr 2.4e-4, wd 0.5, batch 2048, 5 warm-up
/// epochs, label smoothing 0.1). The report shows the first value per (model, metric): the <c>paper</c>
/// preset's pair, CRATE-B and ViT-S (similar parameter counts), comes first.
/// </summary>
public static class VitPaperValues
{
    private const string Source = "arXiv 2311.13110 §3a, NeurIPS'23 Table 1 (docs/paper.md §3a)";
    private const string Recipe = "ImageNet-1K 224px patch 16, 150 epochs, Lion lr 2.4e-4 wd 0.5 batch 2048, label smoothing 0.1";

    /// <summary>(named size, model, ImageNet-1K top-1 %, reported parameters) in report order.</summary>
    public static IReadOnlyList<(string Name, string Model, double Top1, double Parameters)> Table { get; } =
    [
        ("CRATE-B", VisionShape.Crate, 70.8, 22.80e6),
        ("ViT-S", VisionShape.Vit, 72.4, 22.05e6),
        ("CRATE-T", VisionShape.Crate, 66.7, 6.09e6),
        ("CRATE-S", VisionShape.Crate, 69.2, 13.12e6),
        ("CRATE-L", VisionShape.Crate, 71.3, 77.64e6),
        ("ViT-T", VisionShape.Vit, 71.5, 5.72e6),
    ];

    /// <summary>The table as the contract's records: <c>top1</c> and <c>parameters</c> per named size.</summary>
    public static IReadOnlyList<PaperReference> References { get; } = Table
        .SelectMany(row => new[]
        {
            new PaperReference(row.Model, "top1", row.Top1, $"{row.Name}, {Recipe}", Source),
            new PaperReference(row.Model, "parameters", row.Parameters, $"{row.Name} ({Describe(row.Name)}), {Recipe}", Source),
        })
        .ToList();

    private static string Describe(string name) => ModelZoo.Crate.TryGetValue(name, out var c)
        ? $"d={c.Dim} L={c.Depth} K={c.Heads}"
        : ModelZoo.Vit[name] is var v ? $"d={v.Dim} L={v.Depth} heads={v.Heads}" : "";
}
