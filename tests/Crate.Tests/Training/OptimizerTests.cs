using Crate.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Tests.Training;

/// <summary>Lion and AdamW updates against their formulas on hand-computed numbers.</summary>
public class OptimizerTests
{
    private static Parameter Param(params double[] values) => new(tensor(values, float64));

    private static void SetGrad(Parameter p, params double[] g) => p.grad = tensor(g, float64);

    private static double[] Values(Tensor t) => t.detach().data<double>().ToArray();

    [Fact]
    public void LionStepsFollowTheUpdateRule()
    {
        // lr 0.1, wd 0.5, β = (0.9, 0.99). Decayed p0 = [1, -2, 0.5]; non-decayed bias b0 = [1].
        using var scope = NewDisposeScope();
        var p = Param(1, -2, 0.5);
        var b = Param(1);
        var parameters = new[] { new NamedParameter("w", p, Decay: true), new NamedParameter("b", b, Decay: false) };
        using var lion = new LionOptimizer(parameters, new OptimizerSettings(0.9, 0.99, 0, 0.5));
        lion.SetLearningRate(0.1);

        // Step 1, g = [0.5, -0.1, 0]: m = 0, so update = sign(0.1 g) = [1, -1, 0];
        // p = p·0.95 − 0.1·update = [0.85, -1.8, 0.475]; m = 0.01 g = [0.005, -0.001, 0].
        SetGrad(p, 0.5, -0.1, 0); SetGrad(b, 2);
        lion.Step();
        AssertClose([0.85, -1.8, 0.475], Values(p));
        AssertClose([0.9], Values(b));                       // 1 − 0.1·sign(2), no decay
        AssertClose([0.005, -0.001, 0], Values(lion.Momentum(0)!));

        // Step 2, g = [-0.01, -1, 1]. Element 0: 0.9·0.005 + 0.1·(−0.01) = 0.0035 > 0, so the momentum wins
        // over the gradient's sign: update = [1, -1, 1]; p = p·0.95 − 0.1·update = [0.7075, -1.61, 0.35125];
        // m = 0.99 m + 0.01 g = [0.00485, -0.01099, 0.01].
        SetGrad(p, -0.01, -1, 1); SetGrad(b, -3);
        lion.Step();
        AssertClose([0.7075, -1.61, 0.35125], Values(p));
        AssertClose([1.0], Values(b));
        AssertClose([0.00485, -0.01099, 0.01], Values(lion.Momentum(0)!));
    }

    [Fact]
    public void AdamWStepsFollowTheFormula()
    {
        using var scope = NewDisposeScope();
        double lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        var p = Param(0.5, -1.5);
        var bias = Param(0.25);
        var parameters = new[] { new NamedParameter("w", p, Decay: true), new NamedParameter("b", bias, Decay: false) };
        using var adamw = new AdamWOptimizer(parameters, new OptimizerSettings(b1, b2, eps, wd));
        adamw.SetLearningRate(lr);

        double[] ep = [0.5, -1.5], eb = [0.25];
        double[] mp = new double[2], vp = new double[2], mb = new double[1], vb = new double[1];
        double[][] gradsP = [[0.3, -0.2], [-0.1, 0.4], [0.05, 0.05]];
        double[][] gradsB = [[1.0], [-2.0], [0.5]];
        for (int t = 1; t <= 3; t++)
        {
            SetGrad(p, gradsP[t - 1]); SetGrad(bias, gradsB[t - 1]);
            adamw.Step();
            Reference(ep, mp, vp, gradsP[t - 1], t, wd);
            Reference(eb, mb, vb, gradsB[t - 1], t, 0);
            AssertClose(ep, Values(p), 1e-12);
            AssertClose(eb, Values(bias), 1e-12);
        }

        void Reference(double[] x, double[] m, double[] v, double[] g, int t, double decay)
        {
            for (int i = 0; i < x.Length; i++)
            {
                x[i] *= 1 - lr * decay;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double denom = Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps;
                x[i] -= lr / (1 - Math.Pow(b1, t)) * m[i] / denom;
            }
        }
    }

    [Theory]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Lion)]
    public void SavedStateRestoresBitExactly(OptimizerKind kind)
    {
        using var scope = NewDisposeScope();
        var settings = new OptimizerSettings(0.9, 0.99, 1e-8, 0.1);
        var a = Param(0.3, -0.7, 1.1);
        var b = Param(0.3, -0.7, 1.1);
        using var first = settings.Create(kind, [new NamedParameter("w", a, true)]);
        first.SetLearningRate(0.01);
        for (int t = 0; t < 3; t++) { SetGrad(a, 0.1 * t - 0.05, 0.2, -0.3 + t * 0.01); first.Step(); }

        var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) first.Save(writer);
        using (var noGrad = no_grad()) b.copy_(a);
        using var second = settings.Create(kind, [new NamedParameter("w", b, true)]);
        stream.Position = 0;
        using (var reader = new BinaryReader(stream)) second.Load(reader);

        first.SetLearningRate(0.02); second.SetLearningRate(0.02);
        SetGrad(a, 0.4, -0.4, 0.01); SetGrad(b, 0.4, -0.4, 0.01);
        first.Step(); second.Step();
        Assert.Equal(Values(a), Values(b));
    }

    [Fact]
    public void WeightDecayGoesOnlyToMatricesByDefault()
    {
        using var scope = NewDisposeScope();
        var model = new TinyClassifier();
        var named = ParameterGroups.Collect([model]);
        Assert.Equal(["m0.fc1.weight", "m0.fc2.weight"], named.Where(p => p.Decay).Select(p => p.Name).Order());
        Assert.Equal(["m0.fc1.bias", "m0.fc2.bias"], named.Where(p => !p.Decay).Select(p => p.Name).Order());
        Assert.All(ParameterGroups.Collect([model], ParameterGroups.DecayAll), p => Assert.True(p.Decay));
    }

    [Fact]
    public void GradientClippingScalesToTheMaxNormAndReportsTheNormBefore()
    {
        using var scope = NewDisposeScope();
        var a = Param(0, 0);
        var b = Param(0);
        SetGrad(a, 3, 0); SetGrad(b, 4);                                   // global norm 5
        double norm = GradientNorm.ClipAndMeasure([a, b], maxNorm: 1);
        Assert.Equal(5, norm, 12);
        double scale = 1 / (5 + 1e-6);
        AssertClose([3 * scale, 0], Values(a.grad!), 1e-12);
        AssertClose([4 * scale], Values(b.grad!), 1e-12);
        Assert.Equal(1, GradientNorm.ClipAndMeasure([a, b], maxNorm: 0), 5); // 0: measure only
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]}, got {actual[i]}");
    }
}
