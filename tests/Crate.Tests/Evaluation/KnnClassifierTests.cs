using Crate.Core.Evaluation;

namespace Crate.Tests.Evaluation;

/// <summary>DINO's weighted k-NN on hand-worked 2-D examples.</summary>
public class KnnClassifierTests
{
    // Query q = (1, 0), label 0. Training points (cosine with q):
    //   #0 (0.5,  0.866) class 1  cos 60°  = 0.5
    //   #1 (1,    0)     class 0  cos 0°   = 1
    //   #2 (0.5, -0.866) class 1  cos -60° = 0.5
    //   #3 (-0.5, 0.866) class 0  cos 120° = -0.5
    //   #4 (-1,   0)     class 1  cos 180° = -1
    // k = 3 takes #1, #0, #2: a majority vote says class 1 (two of three).
    // T = 0.07: class 0 gets exp(1/0.07) = exp(14.286) ≈ 1.6e6, class 1 gets 2·exp(0.5/0.07) = 2·exp(7.143) ≈ 2530 → class 0.
    // T = 1:    class 0 gets exp(1) ≈ 2.718, class 1 gets 2·exp(0.5) ≈ 3.297 → class 1.
    private static FeatureSet Train() => ProbeData.Set(
        [[0.5f, 0.866f], [1f, 0f], [0.5f, -0.866f], [-0.5f, 0.866f], [-1f, 0f]], [1, 0, 1, 0, 1], 2, "train");

    private static FeatureSet Query() => ProbeData.Set([[1f, 0f]], [0], 2, "test");

    [Fact]
    public void SharpTemperatureLetsTheOneCloseNeighbourOutvoteTheMajority()
    {
        using var train = Train();
        using var test = Query();
        var result = KnnClassifier.Evaluate(train, test, k: 3, temperature: 0.07);
        Assert.Equal([0L], result.Predictions);
        Assert.Equal(100.0, result.Top1);
        Assert.Null(result.Top5);                        // only 2 classes: no top-5, as in the report
    }

    [Fact]
    public void FlatTemperatureGivesTheWeightedMajority()
    {
        using var train = Train();
        using var test = Query();
        var result = KnnClassifier.Evaluate(train, test, k: 3, temperature: 1.0);
        Assert.Equal([1L], result.Predictions);
        Assert.Equal(0.0, result.Top1);
    }

    [Fact]
    public void OneNeighbourIsPlainNearestNeighbour()
    {
        using var train = Train();
        // (-0.9, 0.1): nearest #4 (class 1, cos ≈ 0.994); (-0.4, 1): nearest #3 (class 0, cos ≈ 0.99); (0.3, -1): nearest #2 (class 1).
        using var test = ProbeData.Set([[-0.9f, 0.1f], [-0.4f, 1f], [0.3f, -1f]], [1, 0, 0], 2, "test");
        var result = KnnClassifier.Evaluate(train, test, k: 1);
        Assert.Equal([1L, 0L, 1L], result.Predictions);
        Assert.Equal(200.0 / 3.0, result.Top1, 10);
    }

    [Fact]
    public void SeveralKInOnePassEqualSeparateRuns()
    {
        using var train = Train();
        using var test = ProbeData.Set([[1f, 0f], [-0.9f, 0.1f], [0.2f, 1f]], [0, 1, 0], 2, "test");
        var both = KnnClassifier.Evaluate(train, test, [3, 1], temperature: 1.0, chunkSize: 2);
        Assert.Equal(KnnClassifier.Evaluate(train, test, 3, 1.0).Predictions, both[0].Predictions);
        Assert.Equal(KnnClassifier.Evaluate(train, test, 1, 1.0).Predictions, both[1].Predictions);
    }

    [Fact]
    public void TiesGoToTheLowerTrainingIndexThenTheLowerClass()
    {
        // (1, 1) and (1, −1) are equally similar to (1, 0) (cos 0.7071 both).
        using var train = ProbeData.Set([[1f, 1f], [1f, -1f]], [1, 0], 2, "train");
        using var test = ProbeData.Set([[1f, 0f]], [0], 2, "test");
        Assert.Equal([1L], KnnClassifier.Evaluate(train, test, k: 1).Predictions);   // nearest: index 0 (class 1)
        Assert.Equal([0L], KnnClassifier.Evaluate(train, test, k: 2).Predictions);   // equal votes: class 0
    }

    [Fact]
    public void TopFiveCountsTheTrueClassAmongTheFiveBestRanked()
    {
        // Seven classes on the unit circle at angles 0°, 10°, …, 60° (class c at 10c°); query at 0°, k = 7, T = 1.
        // Votes exp(cos 10c°) fall with c, so the ranking is 0, 1, …, 6: label 4 is in the top 5, label 5 is not.
        var rows = Enumerable.Range(0, 7).Select(c => new[] { (float)Math.Cos(c * Math.PI / 18), (float)Math.Sin(c * Math.PI / 18) }).ToArray();
        using var train = ProbeData.Set(rows, [0, 1, 2, 3, 4, 5, 6], 7, "train");
        using var test = ProbeData.Set([[1f, 0f], [1f, 0f]], [4, 5], 7, "test");
        var result = KnnClassifier.Evaluate(train, test, k: 7, temperature: 1.0);
        Assert.Equal([0L, 0L], result.Predictions);
        Assert.Equal(0.0, result.Top1);
        Assert.Equal(50.0, result.Top5);
    }

    [Fact]
    public void KLargerThanTheTrainingSetIsRejected()
    {
        using var train = Train();
        using var test = Query();
        var e = Assert.Throws<ArgumentException>(() => KnnClassifier.Evaluate(train, test, k: 6));
        Assert.Contains("train", e.Message);
    }
}
