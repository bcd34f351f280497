using Crate.Core.Contract;

namespace Crate.Plugins.Bert;

/// <summary>
/// What the paper gives to compare with: nothing. docs/paper.md §3e and §7 item 2: CRATE-BERT's pre-training data, steps,
/// batch and its GLUE scores against BERT are NOT FOUND, so no value is printed beside ours; the paper preset runs BERT's
/// recipe, not a published CRATE-BERT one.
/// </summary>
public static class BertPaperValues
{
    /// <summary>Why the list is empty, for the README and <c>list</c>.</summary>
    public const string Note = "no CRATE-BERT numbers are published (docs/paper.md §3e, §7 item 2)";

    /// <summary>The paper's values: none.</summary>
    public static IReadOnlyList<PaperReference> All { get; } = [];
}
