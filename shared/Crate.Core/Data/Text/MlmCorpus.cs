namespace Crate.Core.Data.Text;

/// <summary>One packed BERT input and the index (in <see cref="MlmCorpus.Documents"/>) of the document it comes from.</summary>
public sealed record PackedSequence(int Document, int[] Ids);

/// <summary>
/// Masked-language-model pre-training sequences: every document is packed on its own by
/// <see cref="SequencePacker"/> (<c>[CLS] ... [SEP]</c>, at most <c>maxLength</c> ids, consecutive sentences of
/// one document), and the documents are split into train and validation <b>by document</b>:
/// the excluded documents (e.g. the test addresses of the bert plugin's State of the Union party task, <c>SotuPartySplit.ReservedDocumentIds</c>) are dropped first; the
/// rest are shuffled by <see cref="DataRng"/>(<c>seed</c>) (Fisher-Yates) and the first
/// <c>round(validationFraction * n)</c> of them (at least one when <c>validationFraction</c> &gt; 0, at most n - 1) are
/// validation. Sequences keep document order inside each split.
/// </summary>
public sealed class MlmCorpus
{
    private MlmCorpus(IReadOnlyList<TextDocument> documents, int[] trainDocs, int[] valDocs, string[] excluded,
        List<PackedSequence> train, List<PackedSequence> val, int maxLength)
    {
        Documents = documents;
        TrainDocuments = trainDocs;
        ValidationDocuments = valDocs;
        ExcludedDocuments = excluded;
        Train = train;
        Validation = val;
        MaxLength = maxLength;
    }

    /// <summary>All documents given, excluded ones included (indices refer to this list).</summary>
    public IReadOnlyList<TextDocument> Documents { get; }

    /// <summary>Indices of the training documents, ascending.</summary>
    public IReadOnlyList<int> TrainDocuments { get; }

    /// <summary>Indices of the held-out documents, ascending.</summary>
    public IReadOnlyList<int> ValidationDocuments { get; }

    /// <summary>Ids of the documents left out of both splits, in document order.</summary>
    public IReadOnlyList<string> ExcludedDocuments { get; }

    /// <summary>Training sequences.</summary>
    public IReadOnlyList<PackedSequence> Train { get; }

    /// <summary>Validation sequences.</summary>
    public IReadOnlyList<PackedSequence> Validation { get; }

    /// <summary>The longest a sequence may be, [CLS] and [SEP] included.</summary>
    public int MaxLength { get; }

    /// <summary>
    /// Packs and splits <paramref name="documents"/> (see the class summary). Documents are tokenised in
    /// parallel; the result does not depend on the thread count. At least two documents must remain after
    /// the exclusion when <paramref name="validationFraction"/> is positive.
    /// </summary>
    public static MlmCorpus Build(IReadOnlyList<TextDocument> documents, BertWordPieceTokenizer tokenizer, int maxLength,
        double validationFraction = 0.1, ulong seed = 0, IEnumerable<string>? exclude = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(validationFraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(validationFraction, 1.0);
        var excludedIds = new HashSet<string>(exclude ?? [], StringComparer.Ordinal);
        int[] kept = Enumerable.Range(0, documents.Count).Where(d => !excludedIds.Contains(documents[d].Id)).ToArray();
        if (validationFraction > 0 && kept.Length < 2)
            throw new ArgumentException($"a split by document needs at least 2 documents, {kept.Length} remain after excluding {excludedIds.Count}" +
                " (split one long text first, e.g. TextDocuments.ReadChapters)", nameof(documents));

        int valCount = validationFraction > 0 ? Math.Clamp((int)Math.Round(validationFraction * kept.Length), 1, kept.Length - 1) : 0;
        int[] order = (int[])kept.Clone();
        new DataRng(seed).Shuffle(order.AsSpan());
        var valSet = order.Take(valCount).ToHashSet();

        var packed = new List<int[]>[documents.Count];
        Parallel.ForEach(kept, d => packed[d] = SequencePacker.Pack(documents[d].Text, tokenizer, maxLength));
        var train = new List<PackedSequence>();
        var val = new List<PackedSequence>();
        foreach (int d in kept)
            (valSet.Contains(d) ? val : train).AddRange(packed[d].Select(ids => new PackedSequence(d, ids)));

        string[] excluded = Enumerable.Range(0, documents.Count).Where(d => excludedIds.Contains(documents[d].Id)).Select(d => documents[d].Id).ToArray();
        return new MlmCorpus(documents, kept.Where(d => !valSet.Contains(d)).ToArray(), kept.Where(valSet.Contains).ToArray(),
            excluded, train, val, maxLength);
    }
}
