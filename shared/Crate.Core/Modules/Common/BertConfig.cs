namespace Crate.Core.Modules;

/// <summary>
/// Hyper-parameters of one BERT / CRATE-BERT encoder layer (HF names, docs/paper.md §3e).
/// </summary>
public sealed record BertConfig(
    int HiddenSize = 768,
    int NumHeads = 12,
    int IntermediateSize = 3072,
    double LayerNormEps = 1e-12,
    double HiddenDropout = 0.1,
    double AttentionDropout = 0.1,
    double Eta = 0.1,
    double Lambda = 0.1,
    bool Fast = true)
{
    /// <summary>Head width.</summary>
    public int HeadDim => HiddenSize / NumHeads;
}
