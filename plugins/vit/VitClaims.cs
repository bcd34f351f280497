using Crate.Core.Contract;

namespace Crate.Plugins.Vit;

/// <summary>The paper's relative claim for supervised classification, which the report checks (docs/paper.md §3a).</summary>
public sealed partial class VitTask : IPaperClaims
{
    /// <inheritdoc />
    public IReadOnlyList<PaperClaim> Claims { get; } =
    [
        new("top1", 4.8,
            "CRATE comes close to ViT in top-1 at a similar parameter count: within 4.8 points, the paper's largest gap between size-matched " +
            "pairs (ImageNet-1K: CRATE-T 66.7 % vs ViT-T 71.5 %; CRATE-B 70.8 % vs ViT-S 72.4 %)",
            "docs/paper.md §3a, Table 1"),
    ];
}
