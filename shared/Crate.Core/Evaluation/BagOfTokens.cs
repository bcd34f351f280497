using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>
/// Bag-of-tokens features of token-id documents, the raw-input baseline for text. The columns are
/// chosen on the TRAINING documents only: token ids that occur in at least <c>minDocumentFrequency</c>
/// training documents (ids in <c>ignoredIds</c>, e.g. [PAD] [CLS] [SEP], left out), at most
/// <c>maxFeatures</c> of them, the most frequent by document frequency (ties to the lower id); columns
/// are in ascending token id. A document's value in a column is log(1 + count of the token in the
/// document) (sublinear term frequency; no idf, no row normalisation: the k-NN ℓ2-normalises rows and
/// the linear probe standardises columns). Tokens without a column are dropped.
/// </summary>
public sealed class BagOfTokens
{
    /// <summary>Default cap on the number of columns (keeps [N, V] dense and the probe fast).</summary>
    public const int DefaultMaxFeatures = 4096;

    private readonly Dictionary<int, int> column;

    private BagOfTokens(int[] tokenIds)
    {
        TokenIds = tokenIds;
        column = tokenIds.Select((id, j) => (id, j)).ToDictionary(p => p.id, p => p.j);
    }

    /// <summary>Token id of every column, ascending.</summary>
    public IReadOnlyList<int> TokenIds { get; }

    /// <summary>Number of columns V.</summary>
    public int Columns => TokenIds.Count;

    /// <summary>Chooses the columns from <paramref name="trainDocuments"/> (see the class summary).</summary>
    public static BagOfTokens Fit(IEnumerable<IReadOnlyList<int>> trainDocuments, int minDocumentFrequency = 1,
        int maxFeatures = DefaultMaxFeatures, IReadOnlyCollection<int>? ignoredIds = null)
    {
        if (minDocumentFrequency < 1)
            throw new ArgumentOutOfRangeException(nameof(minDocumentFrequency), minDocumentFrequency, "must be at least 1");
        if (maxFeatures < 1)
            throw new ArgumentOutOfRangeException(nameof(maxFeatures), maxFeatures, "must be at least 1");
        var ignored = new HashSet<int>(ignoredIds ?? []);
        var documentFrequency = new Dictionary<int, int>();
        foreach (var doc in trainDocuments)
            foreach (int id in doc.Distinct())
                if (!ignored.Contains(id))
                    documentFrequency[id] = documentFrequency.GetValueOrDefault(id) + 1;
        var kept = documentFrequency.Where(p => p.Value >= minDocumentFrequency)
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key)
            .Take(maxFeatures).Select(p => p.Key).Order().ToArray();
        if (kept.Length == 0)
            throw new ArgumentException($"bag of tokens: no token occurs in at least {minDocumentFrequency} training documents");
        return new BagOfTokens(kept);
    }

    /// <summary>Features [N, V] (log(1 + count)) of <paramref name="documents"/> with their labels.</summary>
    public FeatureSet Transform(IReadOnlyList<IReadOnlyList<int>> documents, IReadOnlyList<long> labels, int numClasses,
        string name = "bag of tokens")
    {
        if (labels.Count != documents.Count)
            throw new ArgumentException($"{name}: {documents.Count} documents but {labels.Count} labels");
        var values = new float[(long)documents.Count * Columns];
        for (int i = 0; i < documents.Count; i++)
        {
            var counts = new Dictionary<int, int>();
            foreach (int id in documents[i])
                if (column.TryGetValue(id, out int j))
                    counts[j] = counts.GetValueOrDefault(j) + 1;
            foreach (var (j, n) in counts)
                values[(long)i * Columns + j] = (float)Math.Log(1.0 + n);
        }
        return new FeatureSet(tensor(values, ScalarType.Float32).view(documents.Count, Columns).DetachFromDisposeScope(),
            tensor(labels.ToArray(), ScalarType.Int64).DetachFromDisposeScope(), numClasses, name);
    }

    /// <summary>
    /// Documents of a token-id tensor [N, n] (any integer type), each row's tokens in order, leaving out the
    /// positions that <paramref name="paddingMask"/> [N, n] marks (true / non-zero = padding).
    /// </summary>
    public static List<IReadOnlyList<int>> Documents(Tensor ids, Tensor? paddingMask = null)
    {
        if (ids.dim() != 2)
            throw new ArgumentException($"bag of tokens: token ids must be [N, n], got [{string.Join(", ", ids.shape)}]");
        if (paddingMask is not null && !paddingMask.shape.SequenceEqual(ids.shape))
            throw new ArgumentException(
                $"bag of tokens: the padding mask must be [{string.Join(", ", ids.shape)}], got [{string.Join(", ", paddingMask.shape)}]");
        using var scope = NewDisposeScope();
        long rows = ids.shape[0], width = ids.shape[1];
        var flat = ids.to(ScalarType.Int64, CPU).contiguous().data<long>().ToArray();
        var pad = paddingMask?.to(CPU).ne(0).contiguous().data<bool>().ToArray();
        var docs = new List<IReadOnlyList<int>>((int)rows);
        for (long r = 0; r < rows; r++)
        {
            var doc = new List<int>();
            for (long t = 0; t < width; t++)
                if (pad is null || !pad[r * width + t])
                    doc.Add(checked((int)flat[r * width + t]));
            docs.Add(doc);
        }
        return docs;
    }
}
