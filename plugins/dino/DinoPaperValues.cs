using Crate.Core.Contract;

namespace Crate.Plugins.Dino;

/// <summary>
/// Reference values. No CRATE-DINO number is published (docs/paper.md §3d, §7 item 1), so only the baseline has
/// them: DINO's own ViT-S/16 (DeiT-S/16) ImageNet-1K k-NN and linear top-1 from the facebookresearch/dino README.
/// The first value per (model, metric) is the one the report shows: the 100-epoch "vanilla" run, closest to the
/// <c>paper</c> preset (which differs from it in batch 1024 instead of 512 and in the teacher temperature
/// 0.04 → 0.07 instead of 0.04), then the released 800-epoch model.
/// </summary>
public static class DinoPaperValues
{
    private const string Source = "facebookresearch/dino README (commit 00e1bcc), 'Vanilla DINO training' and 'Pretrained models'; not the CRATE paper";

    /// <summary>The values as the contract's records.</summary>
    public static IReadOnlyList<PaperReference> References { get; } =
    [
        new(DinoShape.Vit, "knn20_top1", 69.3, "DINO DeiT-S/16, ImageNet-1K, 100 epochs, batch 512 (8x64), main_dino.py defaults (teacher temp 0.04)", Source),
        new(DinoShape.Vit, "linear_top1", 73.8, "DINO DeiT-S/16, ImageNet-1K, 100 epochs, batch 512 (8x64), main_dino.py defaults; linear eval '~73.8%'", Source),
        new(DinoShape.Vit, "knn20_top1", 74.5, "DINO DeiT-S/16 released weights, ImageNet-1K, 800 epochs (args.txt of the release)", Source),
        new(DinoShape.Vit, "linear_top1", 77.0, "DINO DeiT-S/16 released weights, ImageNet-1K, 800 epochs (args.txt of the release)", Source),
    ];
}
