using Crate.Core.Contract;
using Crate.Core.Evaluation;

namespace Crate.Tests.Evaluation;

/// <summary>Low-label subsets, the probe suite over a feature pool, and the raw-input probe cache.</summary>
public class ProbeSuiteTests
{
    // 3 classes of unequal size: 40, 30, 50 samples, in a mixed order.
    private static long[] Labels() => Enumerable.Range(0, 120).Select(i => (long)(i < 40 ? i % 2 * 2 : i < 70 ? 1 : i % 3 == 0 ? 0 : 2)).ToArray();

    [Fact]
    public void LowLabelSubsetsAreBalancedFixedPerSeedNestedAndIndependentOfEverythingButLabelsAndSeed()
    {
        var labels = Labels();
        int[] counts = [.. Enumerable.Range(0, 3).Select(c => labels.Count(l => l == c))];
        Assert.All(counts, n => Assert.True(n >= 20));
        var budgets = LabelBudget.Select(labels, 3, [20, 5], seed: 7);

        Assert.Equal([5, 20], budgets.Select(b => b.PerClass));                         // ascending
        foreach (var budget in budgets)
        {
            Assert.Equal(3 * budget.PerClass, budget.Rows.Count);
            Assert.Equal(budget.Rows.Order(), budget.Rows);                               // ascending indices
            Assert.Equal(budget.Rows.Count, budget.Rows.Distinct().Count());
            for (int c = 0; c < 3; c++)
                Assert.Equal(budget.PerClass, budget.Rows.Count(r => labels[r] == c));   // balanced
        }
        Assert.Subset(budgets[1].Rows.ToHashSet(), budgets[0].Rows.ToHashSet());         // 5 per class ⊂ 20 per class
        Assert.Equal("l5_", budgets[0].Prefix);

        // The same labels and seed give the same subsets (every model and the raw input of a seed); another seed others.
        Assert.Equal(budgets[0].Rows, LabelBudget.Select(labels, 3, [5], seed: 7)[0].Rows);
        Assert.NotEqual(budgets[0].Rows, LabelBudget.Select(labels, 3, [5], seed: 8)[0].Rows);
    }

    [Fact]
    public void A_class_with_too_few_samples_is_named()
    {
        var error = Assert.Throws<ArgumentException>(() => LabelBudget.Select(Labels(), 3, [35], seed: 0));
        Assert.Contains("class 1 has 30", error.Message);
    }

    [Fact]
    public void TheSuiteProbesEachSubsetOfThePoolAsTheProbesWouldOnThatSubsetAlone()
    {
        using var train = ProbeData.Separable(200, 3, seed: 1, "train");
        using var test = ProbeData.Separable(60, 3, seed: 2, "test");
        var labels = train.LabelArray();
        var options = new ProbeOptions(KnnKs: [5, 1]);
        var suite = ProbeSuite.For(labels, 2, fullLimit: 50, perClass: [10], seed: 3, options);

        // Full-label rows: 50 evenly spaced; the pool: those plus the 10-per-class rows, ascending.
        Assert.Equal(Enumerable.Range(0, 50).Select(k => (long)k * 200 / 50), suite.FullRows);
        var pool = suite.PoolRows!;
        Assert.Equal(pool.Order(), pool);
        Assert.Equal(suite.FullRows!.Union(suite.Budgets[0].Rows).Order(), pool);

        using var poolFeatures = train.Subset(pool, "pool");
        var metrics = suite.Run(poolFeatures, test, "x_");
        using var full = train.Subset(suite.FullRows!, "full");
        using var few = train.Subset(suite.Budgets[0].Rows, "few");
        var expectedFull = RepresentationProbes.Run(full, test, options).ToMetrics("x_");
        var expectedFew = RepresentationProbes.Run(few, test, options).ToMetrics("x_l10_");
        Assert.Equal(expectedFull.Concat(expectedFew).OrderBy(kv => kv.Key), metrics.OrderBy(kv => kv.Key));

        // Without a full-label limit the whole split is the pool.
        var whole = ProbeSuite.For(labels, 2, fullLimit: 0, perClass: [], seed: 3, options);
        Assert.Null(whole.FullRows);
        Assert.Null(whole.PoolRows);
        Assert.Equal(RepresentationProbes.Run(train, test, options).ToMetrics(), whole.Run(train, test));
    }

    [Fact]
    public void TheCacheReturnsTheStoredResultForTheSameFeaturesAndRecomputesForOthersOrAfterDamage()
    {
        string dir = Path.Combine(Path.GetTempPath(), "crate-probe-cache-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var train = ProbeData.Separable(80, 3, seed: 1, "train");
            using var test = ProbeData.Separable(30, 3, seed: 2, "test");
            using var other = ProbeData.Separable(80, 3, seed: 9, "other");
            var options = new ProbeOptions(KnnKs: [5]);
            var cache = new ProbeCache(dir);

            var first = cache.Run(train, test, options);
            Assert.Equal(RepresentationProbes.Run(train, test, options).ToMetrics(), first);
            var entry = Assert.Single(Directory.GetFiles(dir));

            // A stored result is what is returned: overwrite it with a marker value and read it back.
            File.WriteAllText(entry, "{\"knn5_top1\": 12.5}");
            Assert.Equal(12.5, cache.Run(train, test, options)["knn5_top1"]);

            // Other features, other options: other keys.
            Assert.NotEqual(ProbeCache.Key(train, test, options), ProbeCache.Key(other, test, options));
            Assert.NotEqual(ProbeCache.Key(train, test, options), ProbeCache.Key(train, test, options with { KnnKs = [3] }));
            cache.Run(other, test, options);
            Assert.Equal(2, Directory.GetFiles(dir).Length);

            // A damaged entry is recomputed and replaced; no temporary file is left.
            File.WriteAllText(entry, "{ not json");
            Assert.Equal(first, cache.Run(train, test, options));
            Assert.Equal(first, cache.Run(train, test, options));
            Assert.DoesNotContain(Directory.GetFiles(dir), f => f.Contains(".tmp-"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void LowLabelCountsParseOrNameTheKey()
    {
        var schema = new ConfigSchema([ProbeKeys.LowLabel]);
        Assert.Equal([10, 100], ProbeKeys.LowLabelCounts(schema.Resolve()));
        Assert.Equal([1, 5], ProbeKeys.LowLabelCounts(With(schema, " 5, 1 ,5")));
        Assert.Empty(ProbeKeys.LowLabelCounts(With(schema, "")));
        foreach (var bad in new[] { "10,x", "0", "-3", "10;100" })
            Assert.Contains("eval.low_label", Assert.Throws<ConfigException>(() => ProbeKeys.LowLabelCounts(With(schema, bad))).Message);
    }

    private static ResolvedConfig With(ConfigSchema schema, string value) =>
        schema.Resolve(new Dictionary<string, string> { ["eval.low_label"] = value });

    [Fact]
    public void DeclaredProbeMetricsPairEveryControlWithItsTreatedMetric()
    {
        var declared = ProbeMetrics.Declare("features", "raw pixels");
        var treated = declared.Where(m => m.Control is null).Select(m => m.Name).ToList();
        Assert.Contains("l100_linear_top1", treated);
        Assert.Equal(3 * treated.Count, declared.Count);
        foreach (var name in treated)
        {
            Assert.Equal(new MetricControl(name, ControlKind.Initialisation), declared.Single(m => m.Name == "init_" + name).Control);
            Assert.Equal(new MetricControl(name, ControlKind.RawInput), declared.Single(m => m.Name == "raw_" + name).Control);
        }
        Assert.True(ProbeMetrics.Reported("l10_knn1_top1"));
        Assert.False(ProbeMetrics.Reported("linear_l2"));
        Assert.False(ProbeMetrics.Reported("l10_knn20_top5"));
    }
}
