using Crate.Core.Evaluation;
using static TorchSharp.torch;

namespace Crate.Tests.Evaluation;

/// <summary>L-BFGS, the logistic-regression probe and its choice of the L2 strength.</summary>
public class LinearProbeTests
{
    [Fact]
    public void LbfgsFindsTheRosenbrockMinimum()
    {
        // f(x, y) = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1); the classic start (−1.2, 1).
        static (double, double[]) Rosenbrock(double[] p)
        {
            double x = p[0], y = p[1];
            return ((1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x),
                [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)]);
        }
        var result = Lbfgs.Minimize(Rosenbrock, [-1.2, 1.0], new LbfgsOptions(1e-8, 500));
        Assert.True(result.Converged);
        Assert.Equal(1.0, result.X[0], 6);
        Assert.Equal(1.0, result.X[1], 6);
    }

    [Fact]
    public void SeparableDataGetsAHundredPercent()
    {
        using var train = ProbeData.Separable(200, 6, seed: 1, "train");
        using var test = ProbeData.Separable(60, 6, seed: 2, "test");
        var result = LinearProbe.Run(train, test);
        Assert.Equal(100.0, result.TestTop1);
        Assert.Equal(100.0, result.ValidationTop1);
        Assert.Equal(LinearProbe.DefaultGrid.Count, result.Grid.Count);
        // Every strength separates the validation part perfectly: the tie goes to the largest λ.
        Assert.All(result.Grid, g => Assert.Equal(100.0, g.ValidationTop1));
        Assert.Equal(1.0, result.L2);
        Assert.True(result.Converged);
    }

    [Fact]
    public void TheStrengthIsChosenWithoutLookingAtTheTestLabels()
    {
        // Noisy data so the grid's validation accuracies differ; then the same test features with
        // correct and with flipped labels: the choice, the validation accuracy and the model must agree.
        using var train = Noisy(300, seed: 3, "train");
        using var test = Noisy(100, seed: 4, "test");
        using var flipped = new FeatureSet(test.Features.clone(), 1 - test.Labels, 2, "test (flipped)");
        var honest = LinearProbe.Run(train, test);
        var adversarial = LinearProbe.Run(train, flipped);
        Assert.Equal(honest.L2, adversarial.L2);
        Assert.Equal(honest.ValidationTop1, adversarial.ValidationTop1);
        Assert.Equal(honest.Grid, adversarial.Grid);
        Assert.Equal(honest.Model.Weights, adversarial.Model.Weights);
        Assert.Equal(100.0, honest.TestTop1 + adversarial.TestTop1, 9);           // flipped labels: the complement
    }

    [Fact]
    public void StratifiedSplitIsDeterministicDisjointAndPerClass()
    {
        long[] labels = [.. Enumerable.Range(0, 50).Select(i => (long)(i % 3 == 0 ? 0 : 1))];   // 17 of class 0, 33 of class 1
        var (fit, val) = LinearProbe.StratifiedSplit(labels, 2, 0.2, seed: 7);
        var (fit2, val2) = LinearProbe.StratifiedSplit(labels, 2, 0.2, seed: 7);
        Assert.Equal(fit, fit2);
        Assert.Equal(val, val2);
        Assert.Equal(3, val.Count(i => labels[i] == 0));                             // ⌊0.2 · 17⌋
        Assert.Equal(6, val.Count(i => labels[i] == 1));                             // ⌊0.2 · 33⌋
        Assert.Empty(fit.Intersect(val));
        Assert.Equal(50, fit.Count + val.Count);
        Assert.NotEqual(val, LinearProbe.StratifiedSplit(labels, 2, 0.2, seed: 8).Validation);
    }

    [Fact]
    public void ConstantColumnsDoNotBreakTheStandardisation()
    {
        // Column 1 is constant: its std is floored, it standardises to 0 and gets no weight.
        using var train = ProbeData.Set([[1f, 5f], [2f, 5f], [-1f, 5f], [-2f, 5f]], [0, 0, 1, 1], 2, "train");
        var model = SoftmaxRegression.Fit(train, 0.1, new LbfgsOptions(1e-10));
        Assert.True(model.Converged);
        Assert.Equal(SoftmaxRegression.StdFloor, model.Std[1]);
        Assert.Equal(0.0, model.Weights[1], 12);
        Assert.Equal(0.0, model.Weights[3], 12);
        Assert.Equal(100.0, model.Accuracy(train));
    }

    /// <summary>Two overlapping clusters (means ±0.5 in x₀, unit noise in 20 dimensions).</summary>
    private static FeatureSet Noisy(int count, int seed, string name)
    {
        var rng = new Random(seed);
        var rows = new float[count][];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            rows[i] = Enumerable.Range(0, 20).Select(j => (float)(ProbeData.Gauss(rng) + (j == 0 ? (labels[i] == 0 ? 0.5 : -0.5) : 0))).ToArray();
        }
        return ProbeData.Set(rows, labels, 2, name);
    }
}
