using Crate.Core.Contract;

namespace Crate.Plugins.Gpt2;

/// <summary>
/// The paper's causal language-modelling results (docs/paper.md §3f): OpenWebText validation cross-entropy of
/// CRATE-GPT base and GPT-2 base after 600k steps, and the perplexities they imply.
/// </summary>
public static class Gpt2PaperValues
{
    /// <summary>The configuration of the CRATE-GPT value.</summary>
    public const string PaperConfigCrate = "OpenWebText, 12 layers, d=768, 600k steps (CRATE-GPT base, 60M)";
    /// <summary>The configuration of the GPT-2 value.</summary>
    public const string PaperConfigGpt2 = "OpenWebText, 12 layers, d=768, 600k steps (GPT-2 base, 124M)";
    /// <summary>Where the values are printed.</summary>
    public const string PaperSource = "docs/paper.md §3f ([B7] zero-shot cross-entropy table)";

    /// <summary>The values as the contract's records, CRATE-GPT and GPT-2 per metric.</summary>
    public static IReadOnlyList<PaperReference> References { get; } =
    [
        new(Gpt2Models.Crate, "val_loss", 3.37, PaperConfigCrate, PaperSource),
        new(Gpt2Models.Gpt2, "val_loss", 2.85, PaperConfigGpt2, PaperSource),
        new(Gpt2Models.Crate, "perplexity", Math.Exp(3.37), PaperConfigCrate, PaperSource + "; exp of the reported loss, not printed there"),
        new(Gpt2Models.Gpt2, "perplexity", Math.Exp(2.85), PaperConfigGpt2, PaperSource + "; exp of the reported loss, not printed there"),
    ];
}
