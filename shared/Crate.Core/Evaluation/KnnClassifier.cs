using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>
/// Result of one weighted k-NN evaluation: top-1 (and, with more than 5 classes, top-5) accuracy in %,
/// and the predicted class of every test sample.
/// </summary>
public sealed record KnnResult(int K, double Temperature, double Top1, double? Top5, long[] Predictions);

/// <summary>
/// Weighted k-NN classification as DINO evaluates it (facebookresearch/dino, eval_knn.py): train and
/// test features are ℓ2-normalised, similarity is the cosine, each test sample takes its k most similar
/// training samples, each neighbour votes for its class with weight exp(sim / T), and the prediction
/// is the class with the largest summed vote. Top-5 counts a hit when the true class is among the
/// min(5, k) best-ranked classes, as DINO does. Ties are broken deterministically: among equally
/// similar training samples the lower index is the nearer neighbour, and among equal class scores the
/// lower class index ranks first. Similarities are computed in float32 (as DINO), votes in float64;
/// the test set is processed in chunks so the [chunk, N_train] similarity matrix stays bounded.
/// </summary>
public static class KnnClassifier
{
    /// <summary>DINO's default number of neighbours.</summary>
    public const int DefaultK = 20;

    /// <summary>DINO's default temperature of the vote weights exp(sim / T).</summary>
    public const double DefaultTemperature = 0.07;

    /// <summary>Test rows per similarity chunk.</summary>
    public const int DefaultChunkSize = 256;

    /// <summary>One k-NN evaluation of <paramref name="test"/> against <paramref name="train"/>.</summary>
    public static KnnResult Evaluate(FeatureSet train, FeatureSet test, int k = DefaultK,
        double temperature = DefaultTemperature, int chunkSize = DefaultChunkSize) =>
        Evaluate(train, test, [k], temperature, chunkSize)[0];

    /// <summary>
    /// Several k at once (one similarity pass; the neighbours of the largest k serve every smaller k),
    /// one result per entry of <paramref name="ks"/>, in that order.
    /// </summary>
    public static IReadOnlyList<KnnResult> Evaluate(FeatureSet train, FeatureSet test, IReadOnlyList<int> ks,
        double temperature = DefaultTemperature, int chunkSize = DefaultChunkSize)
    {
        Check(train, test, ks, temperature, chunkSize);
        int maxK = ks.Max(), classes = train.NumClasses;
        long nTrain = train.Count, nTest = test.Count;
        var trainLabels = train.LabelArray();
        var testLabels = test.LabelArray();
        var predictions = ks.Select(_ => new long[nTest]).ToArray();
        var top1Hits = new long[ks.Count];
        var top5Hits = new long[ks.Count];
        var idx = new int[maxK];
        var sim = new float[maxK];
        var scores = new double[classes];

        using var outer = NewDisposeScope();
        using var noGrad = no_grad();
        var trainT = nn.functional.normalize(train.Features, 2, 1).t();                       // [D, N_train]
        for (long start = 0; start < nTest; start += chunkSize)
        {
            using var scope = NewDisposeScope();
            long rows = Math.Min(chunkSize, nTest - start);
            var query = nn.functional.normalize(test.Features.narrow(0, start, rows), 2, 1);   // [rows, D]
            var sims = query.mm(trainT).contiguous().data<float>().ToArray();                   // [rows, N_train] row-major
            for (int r = 0; r < rows; r++)
            {
                long i = start + r;
                Nearest(sims.AsSpan((int)(r * nTrain), (int)nTrain), maxK, idx, sim);
                for (int q = 0; q < ks.Count; q++)
                {
                    Vote(ks[q], idx, sim, trainLabels, temperature, scores);
                    long label = testLabels[i];
                    int rank = Rank(scores, label);
                    predictions[q][i] = ArgMax(scores);
                    if (rank == 0)
                        top1Hits[q]++;
                    if (rank < Math.Min(5, ks[q]))
                        top5Hits[q]++;
                }
            }
        }
        return ks.Select((k, q) => new KnnResult(k, temperature, 100.0 * top1Hits[q] / nTest,
            classes > 5 ? 100.0 * top5Hits[q] / nTest : null, predictions[q])).ToList();
    }

    /// <summary>
    /// The k most similar training rows of one similarity row, best first, ordered by (similarity
    /// descending, index ascending): a later index replaces a kept one only when strictly more similar.
    /// </summary>
    private static void Nearest(ReadOnlySpan<float> row, int k, int[] idx, float[] sim)
    {
        int kept = 0;
        for (int j = 0; j < row.Length; j++)
        {
            float s = row[j];
            if (kept == k && s <= sim[k - 1])
                continue;
            int pos = kept == k ? k - 1 : kept++;
            while (pos > 0 && sim[pos - 1] < s)
            {
                sim[pos] = sim[pos - 1];
                idx[pos] = idx[pos - 1];
                pos--;
            }
            sim[pos] = s;
            idx[pos] = j;
        }
    }

    /// <summary>scores[c] = Σ over the first k neighbours of class c of exp(sim / T).</summary>
    private static void Vote(int k, int[] idx, float[] sim, long[] trainLabels, double temperature, double[] scores)
    {
        Array.Clear(scores);
        for (int n = 0; n < k; n++)
            scores[trainLabels[idx[n]]] += Math.Exp(sim[n] / temperature);
    }

    /// <summary>Position of <paramref name="label"/> in the class ranking (score descending, index ascending).</summary>
    private static int Rank(double[] scores, long label)
    {
        int rank = 0;
        double own = scores[label];
        for (int c = 0; c < scores.Length; c++)
            if (scores[c] > own || (scores[c] == own && c < label))
                rank++;
        return rank;
    }

    private static long ArgMax(double[] scores)
    {
        int best = 0;
        for (int c = 1; c < scores.Length; c++)
            if (scores[c] > scores[best])
                best = c;
        return best;
    }

    private static void Check(FeatureSet train, FeatureSet test, IReadOnlyList<int> ks, double temperature, int chunkSize)
    {
        if (train.Dim != test.Dim)
            throw new ArgumentException($"k-NN: {train.Name} has D = {train.Dim} but {test.Name} has D = {test.Dim}");
        if (train.NumClasses != test.NumClasses)
            throw new ArgumentException($"k-NN: {train.Name} has {train.NumClasses} classes but {test.Name} has {test.NumClasses}");
        if (test.Count == 0)
            throw new ArgumentException($"k-NN: {test.Name} is empty");
        if (ks.Count == 0 || ks.Any(k => k < 1 || k > train.Count))
            throw new ArgumentException(
                $"k-NN: every k must lie in [1, {train.Count}] (the {train.Name} size), got [{string.Join(", ", ks)}]");
        if (!(temperature > 0))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "k-NN: the temperature must be positive");
        if (chunkSize < 1)
            throw new ArgumentOutOfRangeException(nameof(chunkSize), chunkSize, "k-NN: the chunk size must be at least 1");
        if ((long)chunkSize * train.Count > int.MaxValue)
            throw new ArgumentException($"k-NN: a chunk of {chunkSize} × {train.Count} similarities is too large; use a smaller chunk size");
    }
}
