using Crate.Core.Training;

namespace Crate.Core.Evaluation;

/// <summary>
/// A low-label probe: <see cref="PerClass"/> labelled training samples of every class (<see cref="Rows"/>, indices into
/// the training split, ascending). Its metrics carry the prefix <c>l{PerClass}_</c> (<c>l10_linear_top1</c>).
/// </summary>
public sealed record LabelBudget(int PerClass, IReadOnlyList<long> Rows)
{
    /// <summary>The metric prefix of this budget, e.g. <c>l10_</c>.</summary>
    public string Prefix => $"l{PerClass}_";

    /// <summary>
    /// The fixed, class-balanced subsets of <paramref name="perClass"/> samples per class for one seed: per class, its
    /// training indices (ascending) shuffled by Fisher–Yates with a <see cref="DeterministicRng"/> seeded from
    /// (<paramref name="seed"/>, class), and the first k taken. The order does not depend on k, so the subsets are nested
    /// (the 10-per-class subset is part of the 100-per-class one), and they depend on nothing but the labels and the seed:
    /// every model of a seed and the raw input are probed on the same images.
    /// </summary>
    /// <exception cref="ArgumentException">A class has fewer than k training samples.</exception>
    public static IReadOnlyList<LabelBudget> Select(long[] labels, int numClasses, IReadOnlyList<int> perClass, long seed)
    {
        var members = new long[numClasses][];
        for (int c = 0; c < numClasses; c++)
        {
            int cls = c;
            var own = Enumerable.Range(0, labels.Length).Where(i => labels[i] == cls).Select(i => (long)i).ToArray();
            var rng = new DeterministicRng(SeedMath.Derive(seed, $"low-label-{cls}"));
            for (int i = own.Length - 1; i > 0; i--)
            {
                int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
                (own[i], own[j]) = (own[j], own[i]);
            }
            members[c] = own;
        }
        var budgets = new List<LabelBudget>();
        foreach (int k in perClass.Distinct().Order())
        {
            if (k <= 0)
                throw new ArgumentException($"a low-label probe needs at least one sample per class, not {k}");
            var scarce = Enumerable.Range(0, numClasses).Where(c => members[c].Length < k).ToList();
            if (scarce.Count > 0)
                throw new ArgumentException(
                    $"a {k}-per-class probe needs {k} training samples of every class; class {scarce[0]} has {members[scarce[0]].Length}");
            budgets.Add(new LabelBudget(k, members.SelectMany(m => m.Take(k)).Order().ToList()));
        }
        return budgets;
    }
}

/// <summary>
/// The probes a pre-training task runs on each feature source (the trained encoder, the same encoder at its
/// initialisation, the raw input), so that every source is judged on the same training images: the full-label probes
/// on <see cref="FullRows"/> (null: the whole training split) and one low-label probe per <see cref="Budgets"/> entry.
/// Features are extracted once for <see cref="PoolRows"/>, the union of them all.
/// </summary>
public sealed record ProbeSuite(IReadOnlyList<long>? FullRows, IReadOnlyList<LabelBudget> Budgets, ProbeOptions Options)
{
    /// <summary>
    /// The suite over a training split of <paramref name="trainLabels"/>: full-label probes on the evenly spaced
    /// <paramref name="fullLimit"/> samples (0 or at least the split: all of it; the rule of <c>ImageSubset.Limit</c>),
    /// low-label probes of <paramref name="perClass"/> samples per class chosen by <paramref name="seed"/>.
    /// </summary>
    public static ProbeSuite For(long[] trainLabels, int numClasses, int fullLimit, IReadOnlyList<int> perClass, long seed, ProbeOptions options)
    {
        int n = trainLabels.Length;
        IReadOnlyList<long>? full = fullLimit <= 0 || fullLimit >= n ? null
            : Enumerable.Range(0, fullLimit).Select(k => (long)k * n / fullLimit).ToList();
        return new ProbeSuite(full, LabelBudget.Select(trainLabels, numClasses, perClass, seed), options);
    }

    /// <summary>Every training index some probe fits on, ascending; null when the full-label probe takes the whole split.</summary>
    public IReadOnlyList<long>? PoolRows =>
        FullRows is null ? null : FullRows.Concat(Budgets.SelectMany(b => b.Rows)).Distinct().Order().ToList();

    /// <summary>
    /// Runs every probe of the suite on one source: <paramref name="train"/> holds the features of <see cref="PoolRows"/>
    /// in that order (of the whole training split when it is null), <paramref name="test"/> those of the test split.
    /// Metrics: <c>{prefix}knn20_top1</c> … for the full-label probes, <c>{prefix}l10_knn20_top1</c> … per budget.
    /// With a <paramref name="cache"/> (for sources that depend on no model: raw input) each probe's result is read from
    /// it when the same features were probed before.
    /// </summary>
    public Dictionary<string, double> Run(FeatureSet train, FeatureSet test, string prefix = "", ProbeCache? cache = null)
    {
        var pool = PoolRows;
        var position = pool?.Select((row, i) => (row, i)).ToDictionary(x => x.row, x => (long)x.i);
        IReadOnlyList<long> Positions(IReadOnlyList<long> rows) => position is null ? rows : rows.Select(r => position[r]).ToList();

        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (FullRows is null)
            Add(train, prefix);
        else
        {
            using var full = train.Subset(Positions(FullRows!), $"{train.Name} (probe rows)");
            Add(full, prefix);
        }
        foreach (var budget in Budgets)
        {
            using var few = train.Subset(Positions(budget.Rows), $"{train.Name} ({budget.PerClass} per class)");
            Add(few, prefix + budget.Prefix);
        }
        return metrics;

        void Add(FeatureSet fit, string name)
        {
            var values = cache is null ? RepresentationProbes.Run(fit, test, Options).ToMetrics() : cache.Run(fit, test, Options);
            foreach (var (k, v) in values) metrics[name + k] = v;
        }
    }
}
