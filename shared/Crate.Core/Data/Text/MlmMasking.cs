namespace Crate.Core.Data.Text;

/// <summary>
/// BERT's masking for masked-language-model training, on token ids (no tensors): each position that is not a
/// special token ([PAD] [UNK] [CLS] [SEP] [MASK]) is chosen with probability <c>maskProbability</c> (0.15);
/// a chosen token becomes [MASK] with probability 0.8, a uniformly random id in [0, VocabSize) with 0.1,
/// and stays as it is with 0.1 (as Hugging Face's DataCollatorForLanguageModeling). Labels hold the original
/// id at chosen positions and <see cref="IgnoreLabel"/> elsewhere (PyTorch's cross-entropy ignore index).
/// </summary>
public static class MlmMasking
{
    /// <summary>The label of positions that are not predicted.</summary>
    public const int IgnoreLabel = -100;

    /// <summary>BERT's share of predicted positions.</summary>
    public const double DefaultMaskProbability = 0.15;

    /// <summary>Masks <paramref name="ids"/> with draws from <paramref name="rng"/>; the input is not modified.</summary>
    public static (int[] Inputs, int[] Labels) Mask(ReadOnlySpan<int> ids, BertWordPieceTokenizer tokenizer, DataRng rng,
        double maskProbability = DefaultMaskProbability)
    {
        var inputs = ids.ToArray();
        var labels = new int[ids.Length];
        Array.Fill(labels, IgnoreLabel);
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (tokenizer.SpecialIds.Contains(id) || rng.NextDouble() >= maskProbability) continue;
            labels[i] = id;
            double r = rng.NextDouble();
            if (r < 0.8) inputs[i] = tokenizer.MaskId;
            else if (r < 0.9) inputs[i] = rng.NextInt(tokenizer.VocabSize);
        }
        return (inputs, labels);
    }
}
