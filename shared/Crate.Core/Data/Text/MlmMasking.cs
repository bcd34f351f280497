using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Data.Text;

/// <summary>A masked-language-model batch: the corrupted inputs, the labels and which positions were selected, all <c>[B, T]</c>.</summary>
/// <param name="InputIds">The ids with the selected positions replaced by [MASK], a random id or kept (int64).</param>
/// <param name="Labels">The original id at the selected positions, <see cref="MlmMasking.IgnoreIndex"/> elsewhere (int64).</param>
/// <param name="Selected">The positions the loss is computed on (bool).</param>
public sealed record MaskedTokens(Tensor InputIds, Tensor Labels, Tensor Selected);

/// <summary>
/// BERT's masking recipe as Hugging Face's <c>DataCollatorForLanguageModeling</c> applies it: each position that
/// is neither a special token nor padding is selected with probability <see cref="MlmProbability"/> (0.15); a
/// selected position becomes the [MASK] id with probability <see cref="MaskFraction"/> (0.8), a token id drawn
/// uniformly from the whole vocabulary [0, vocab) with probability <see cref="RandomFraction"/> (0.1), and stays
/// as it is otherwise (0.1). Labels hold the original id at selected positions and −100 (cross-entropy's ignore
/// index) elsewhere.
/// <para>
/// All randomness comes from the <see cref="Generator"/> passed to <see cref="Apply"/>: three draws of the batch's
/// shape (selection, replacement choice, random ids) whatever the data, so the trainer's per-micro-batch
/// generator (<c>StepContext.Generator</c>) gives the same mask for the same step and resume stays exact.
/// </para>
/// </summary>
public sealed class MlmMasking
{
    /// <summary>The label of positions that are not predicted (<c>ignore_index</c> of the cross-entropy).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>BERT's masker for a WordPiece vocabulary: its [MASK] id, its size, and its special ids ([PAD], [UNK], [CLS], [SEP], [MASK]) never selected.</summary>
    public static MlmMasking For(BertWordPieceTokenizer tokenizer, double mlmProbability = 0.15) =>
        new(tokenizer.MaskId, tokenizer.VocabSize, tokenizer.SpecialIds.Select(id => (long)id), mlmProbability);

    private readonly long[] _specialIds;

    /// <summary>
    /// A masker for a vocabulary of <paramref name="vocabSize"/> ids whose [MASK] is <paramref name="maskId"/> and
    /// whose special tokens (never selected; [CLS], [SEP], [PAD], [MASK] and, as in Hugging Face, [UNK]) are
    /// <paramref name="specialIds"/>. The fractions must be probabilities with <paramref name="maskFraction"/> +
    /// <paramref name="randomFraction"/> ≤ 1.
    /// </summary>
    public MlmMasking(long maskId, long vocabSize, IEnumerable<long> specialIds,
        double mlmProbability = 0.15, double maskFraction = 0.8, double randomFraction = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        if (maskId < 0 || maskId >= vocabSize)
            throw new ArgumentOutOfRangeException(nameof(maskId), maskId, $"the [MASK] id must be in [0, {vocabSize})");
        RequireProbability(mlmProbability, nameof(mlmProbability));
        RequireProbability(maskFraction, nameof(maskFraction));
        RequireProbability(randomFraction, nameof(randomFraction));
        if (maskFraction + randomFraction > 1)
            throw new ArgumentException($"mask fraction {maskFraction} + random fraction {randomFraction} exceed 1", nameof(randomFraction));
        _specialIds = specialIds.Append(maskId).Distinct().Order().ToArray();
        (MaskId, VocabSize, MlmProbability, MaskFraction, RandomFraction) = (maskId, vocabSize, mlmProbability, maskFraction, randomFraction);
    }

    /// <summary>The [MASK] token id.</summary>
    public long MaskId { get; }

    /// <summary>Random replacements are drawn uniformly from [0, VocabSize).</summary>
    public long VocabSize { get; }

    /// <summary>Probability that an eligible position is selected for prediction.</summary>
    public double MlmProbability { get; }

    /// <summary>Fraction of selected positions replaced by [MASK].</summary>
    public double MaskFraction { get; }

    /// <summary>Fraction of selected positions replaced by a random id (the rest keep their id).</summary>
    public double RandomFraction { get; }

    /// <summary>The ids never selected (the special ids given, plus [MASK]), ascending.</summary>
    public IReadOnlyList<long> SpecialIds => _specialIds;

    /// <summary>
    /// Masks <paramref name="ids"/> (int64, any shape, typically <c>[B, T]</c>). <paramref name="attentionMask"/>
    /// (same shape, non-zero = real token, 0 = padding) excludes padding even if the pad id was not listed as
    /// special; null: no padding. <paramref name="generator"/> must live on the device of <paramref name="ids"/>.
    /// The result's tensors belong to the caller's dispose scope.
    /// </summary>
    public MaskedTokens Apply(Tensor ids, Tensor? attentionMask, Generator generator)
    {
        if (ids.dtype != ScalarType.Int64) throw new ArgumentException($"token ids must be int64, not {ids.dtype}", nameof(ids));
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException($"the attention mask has shape [{string.Join(", ", attentionMask.shape)}], the ids [{string.Join(", ", ids.shape)}]",
                nameof(attentionMask));
        using var scope = NewDisposeScope();
        var device = ids.device;
        var eligible = ids.ne(_specialIds[0]);                                                  // [B, T] bool
        foreach (long special in _specialIds.Skip(1)) eligible = eligible.logical_and(ids.ne(special));
        if (attentionMask is not null) eligible = eligible.logical_and(attentionMask.ne(0));

        var selectDraw = rand(ids.shape, generator: generator, dtype: ScalarType.Float64, device: device);   // [B, T]
        var choiceDraw = rand(ids.shape, generator: generator, dtype: ScalarType.Float64, device: device);   // [B, T]
        var randomIds = randint(0, VocabSize, ids.shape, dtype: ScalarType.Int64, device: device, generator: generator);   // [B, T]

        var selected = selectDraw.lt(MlmProbability).logical_and(eligible);
        var toMask = selected.logical_and(choiceDraw.lt(MaskFraction));
        var toRandom = selected.logical_and(choiceDraw.ge(MaskFraction)).logical_and(choiceDraw.lt(MaskFraction + RandomFraction));

        var inputs = where(toMask, full_like(ids, MaskId), where(toRandom, randomIds, ids));
        var labels = where(selected, ids, full_like(ids, IgnoreIndex));
        return new MaskedTokens(inputs.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), selected.MoveToOuterDisposeScope());
    }

    private static void RequireProbability(double p, string name)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(name, p, "must be a probability in [0, 1]");
    }
}
