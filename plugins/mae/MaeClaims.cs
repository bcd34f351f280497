using Crate.Core.Contract;

namespace Crate.Plugins.Mae;

/// <summary>The paper's relative claim for masked autoencoding, which the report checks (docs/paper.md §3c).</summary>
public sealed partial class MaeTask : IPaperClaims
{
    /// <inheritdoc />
    public IReadOnlyList<PaperClaim> Claims { get; } =
    [
        new("linear_top1", 7.0,
            "CRATE-MAE's frozen [CLS] probes close to MAE's with fewer parameters: within 7.0 points, the paper's gap on CIFAR-10 " +
            "(CRATE-MAE-B 80.9 % with 44.6M parameters vs ViT-MAE-B 87.9 % with 143.8M; S: 79.4 vs 79.9 %)",
            "docs/paper.md §3c, linear-probe table"),
    ];
}
