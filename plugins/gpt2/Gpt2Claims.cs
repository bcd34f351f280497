using Crate.Core.Contract;

namespace Crate.Plugins.Gpt2;

/// <summary>The paper's relative claim for causal language modelling, which the report checks (docs/paper.md §3f).</summary>
public sealed partial class Gpt2Task : IPaperClaims
{
    /// <inheritdoc />
    public IReadOnlyList<PaperClaim> Claims { get; } =
    [
        new("val_loss", 0.52,
            "CRATE-GPT's validation loss comes within 0.52 nats/token of GPT-2's, the paper's gap on OpenWebText " +
            "(Causal-CRATE-Base 3.37 with 60M parameters vs GPT2-Base 2.85 with 124M)",
            "docs/paper.md §3f, zero-shot cross-entropy table"),
    ];
}
