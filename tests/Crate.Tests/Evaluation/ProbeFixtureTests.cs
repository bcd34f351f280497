using System.Text.Json;
using Crate.Core.Evaluation;

namespace Crate.Tests.Evaluation;

/// <summary>
/// Parity with the independent numpy implementation of tools/fixtures/make_probe_fixture.py
/// (Fixtures/probe_fixture.json: 140 training and 42 test samples, 8-D, 7 classes).
/// </summary>
public class ProbeFixtureTests
{
    private static JsonElement Fixture()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "probe_fixture.json")));
        return doc.RootElement.Clone();
    }

    private static FeatureSet Set(JsonElement root, string split)
    {
        // The generator wrote float32 values; float64 → float32 gives back exactly those numbers.
        var rows = root.GetProperty($"{split}_features").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        var labels = root.GetProperty($"{split}_labels").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        return ProbeData.Set(rows, labels, root.GetProperty("classes").GetInt32(), split);
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    [Fact]
    public void KnnMatchesTheNumpyReference()
    {
        var root = Fixture();
        using var train = Set(root, "train");
        using var test = Set(root, "test");
        double temperature = root.GetProperty("temperature").GetDouble();
        foreach (var expected in root.GetProperty("knn").EnumerateArray())
        {
            int k = expected.GetProperty("k").GetInt32();
            var result = KnnClassifier.Evaluate(train, test, k, temperature, chunkSize: 16);   // 3 chunks of the 42 test rows
            Assert.Equal(expected.GetProperty("predictions").EnumerateArray().Select(v => v.GetInt64()), result.Predictions);
            // Both sides count hits and divide by the same N: the percentages are equal, not just close.
            Assert.Equal(expected.GetProperty("top1").GetDouble(), result.Top1);
            Assert.Equal(expected.GetProperty("top5").GetDouble(), result.Top5);
        }
    }

    [Fact]
    public void LogisticRegressionMatchesTheNumpyNewtonSolution()
    {
        var root = Fixture();
        var expected = root.GetProperty("logistic");
        using var train = Set(root, "train");
        using var test = Set(root, "test");
        double l2 = expected.GetProperty("l2").GetDouble();
        var model = SoftmaxRegression.Fit(train, l2, new LbfgsOptions(GradientTolerance: 1e-9, MaxIterations: 5000));

        Assert.True(model.Converged, $"|g|∞ = {model.GradientInfNorm:E2} after {model.Iterations} iterations");
        // Standardisation: float64 means/stds of the same float32 numbers, different summation order.
        AssertClose(Doubles(expected.GetProperty("mean")), model.Mean, 1e-12);
        AssertClose(Doubles(expected.GetProperty("std")), model.Std, 1e-12);
        // L is λ-strongly convex in W (the bias direction orthogonal to the common shift is strongly convex
        // through the data term), so a gradient of ≤ 1e-9 per component puts the L-BFGS solution within
        // about √63 · 1e-9 / λ ≈ 1.6e-7 of Newton's (whose gradient is ~1e-16); 1e-6 leaves a margin.
        AssertClose(Doubles(expected.GetProperty("weights")), model.Weights, 1e-6);
        AssertClose(Doubles(expected.GetProperty("centered_bias")), model.CenteredBias, 1e-6);
        // The loss error is second order in the parameter error.
        Assert.Equal(expected.GetProperty("loss").GetDouble(), model.Loss, 1e-11);
        Assert.Equal(expected.GetProperty("test_predictions").EnumerateArray().Select(v => v.GetInt64()), model.Predict(test));
        Assert.Equal(expected.GetProperty("test_top1").GetDouble(), model.Accuracy(test), 10);
    }

    private static void AssertClose(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= tol, $"max |diff| = {worst:E2} > {tol:E0}");
    }
}
