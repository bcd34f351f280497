using Crate.Core.Evaluation;

namespace Crate.Tests.Evaluation;

/// <summary>The facade and its metric names.</summary>
public class RepresentationProbesTests
{
    [Fact]
    public void RunGivesKnnAndLinearMetricsUnderThePrefix()
    {
        using var train = ProbeData.Separable(120, 4, seed: 5, "train");
        using var test = ProbeData.Separable(40, 4, seed: 6, "test");
        var metrics = RepresentationProbes.Run(train, test).ToMetrics("raw_");
        Assert.Equal(["raw_knn20_top1", "raw_knn1_top1", "raw_linear_top1", "raw_linear_l2", "raw_linear_val_top1"], metrics.Keys);
        // x₀ = ±2 dominates the cosine of 4-D points only loosely, but the classes are linearly separable.
        Assert.Equal(100.0, metrics["raw_linear_top1"]);
        Assert.Contains(metrics["raw_linear_l2"], LinearProbe.DefaultGrid);
    }

    [Fact]
    public void KnnOnlyWithTopFiveForManyClasses()
    {
        // Seven classes, ten points each, on seven well separated directions of the plane.
        var rows = new List<float[]>();
        var labels = new List<long>();
        for (int c = 0; c < 7; c++)
            for (int i = 0; i < 10; i++)
            {
                double angle = 2 * Math.PI * c / 7 + 0.01 * i;
                rows.Add([(float)Math.Cos(angle), (float)Math.Sin(angle)]);
                labels.Add(c);
            }
        using var train = ProbeData.Set([.. rows], [.. labels], 7, "train");
        using var test = ProbeData.Set([.. rows], [.. labels], 7, "test");
        var metrics = RepresentationProbes.Run(train, test, new ProbeOptions(KnnKs: [10, 1], Linear: false)).ToMetrics();
        Assert.Equal(["knn10_top1", "knn10_top5", "knn1_top1"], metrics.Keys);
        Assert.All(metrics.Values, v => Assert.Equal(100.0, v));
    }
}
