namespace Crate.Core.Modules;

/// <summary>
/// Hyper-parameters of a whole masked language model, BERT (Hugging Face <c>BertConfig</c>) or CRATE-BERT (the
/// Hugging Face CRATE port, docs/paper.md §3e), with the config's names in words: vocabulary, width d, L layers,
/// K heads, the MLP width (BERT only; the port carries it and ignores it), <see cref="MaxPositions"/> rows of the
/// position table (<c>max_position_embeddings</c>), token types, the padding id, LayerNorm eps and dropout.
/// CRATE-BERT's position ids start at <see cref="PadTokenId"/> + 1 (RoBERTa), so it reads at most
/// <see cref="MaxPositions"/> − pad − 1 tokens; BERT's start at 0.
/// </summary>
public sealed record BertModelConfig(
    int VocabSize = 30522,
    int HiddenSize = 768,
    int NumLayers = 12,
    int NumHeads = 12,
    int IntermediateSize = 3072,
    int MaxPositions = 512,
    int TypeVocabSize = 2,
    int PadTokenId = 0,
    double LayerNormEps = 1e-12,
    double HiddenDropout = 0.1,
    double AttentionDropout = 0.1,
    double IstaStep = 0.1,
    double IstaLambda = 0.1,
    bool Fast = true)
{
    /// <summary>bert-base-uncased: 30,522 WordPiece ids, d 768, 12 layers, 12 heads, MLP 3072, 512 positions, pad 0.</summary>
    public static BertModelConfig BertBase { get; } = new();

    /// <summary>
    /// The CRATE port's defaults (docs/paper.md §3e): RoBERTa's vocabulary of 50,265 with pad 1, d 768, 12 layers,
    /// 12 heads, 514 position rows (512 tokens after the offset of 2), 2 token types.
    /// </summary>
    public static BertModelConfig CrateBertBase { get; } = new(VocabSize: 50265, MaxPositions: 514, PadTokenId: 1);

    /// <summary>The per-layer config the layers take.</summary>
    public BertConfig Layer => new(HiddenSize, NumHeads, IntermediateSize, LayerNormEps, HiddenDropout, AttentionDropout, IstaStep, IstaLambda, Fast);

    /// <summary>The longest input: <see cref="MaxPositions"/> for BERT, <see cref="MaxPositions"/> − pad − 1 with RoBERTa positions.</summary>
    public int MaxLength(bool robertaPositions) => robertaPositions ? MaxPositions - PadTokenId - 1 : MaxPositions;

    /// <summary>Embedding parameters: V·d + P·d + types·d + LayerNorm 2d.</summary>
    public long EmbeddingParameterCount() =>
        ((long)VocabSize + MaxPositions + TypeVocabSize) * HiddenSize + 2L * HiddenSize;

    /// <summary>The MLM head: dense d² + d, LayerNorm 2d, decoder bias V (the decoder weight is the tied word embedding).</summary>
    public long MlmHeadParameterCount() => (long)HiddenSize * HiddenSize + 3L * HiddenSize + VocabSize;

    /// <summary>
    /// BertForMaskedLM: embeddings + L·(q, k, v, output 4d² + 4d; two LayerNorms 4d; MLP 2·d·I + I + d) + MLM head.
    /// No pooler (Hugging Face builds BertForMaskedLM without it); the tied decoder weight counted once.
    /// </summary>
    public long BertParameterCount()
    {
        long d = HiddenSize, i = IntermediateSize;
        long layer = 4 * d * d + 4 * d + 4 * d + 2 * d * i + i + d;
        return EmbeddingParameterCount() + NumLayers * layer + MlmHeadParameterCount();
    }

    /// <summary>
    /// CRATE-BERT for MLM: embeddings + L·(two LayerNorms 4d; U d²; bias-free output d²; D d²) + MLM head,
    /// the tied decoder weight counted once.
    /// </summary>
    public long CrateBertParameterCount()
    {
        long d = HiddenSize;
        return EmbeddingParameterCount() + NumLayers * (3 * d * d + 4 * d) + MlmHeadParameterCount();
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public void Validate()
    {
        if (VocabSize <= 0 || HiddenSize <= 0 || NumLayers <= 0 || NumHeads <= 0 || IntermediateSize <= 0 || MaxPositions <= 0 || TypeVocabSize <= 0)
            throw new ArgumentException($"BERT config has a non-positive size: {this}.");
        if (HiddenSize % NumHeads != 0)
            throw new ArgumentException($"BERT width {HiddenSize} is not divisible by {NumHeads} heads.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize)
            throw new ArgumentException($"BERT pad id {PadTokenId} is outside the vocabulary of {VocabSize}.");
    }
}
