using Crate.Core.Contract;
using Crate.Core.Modules;
using Crate.Core.WhiteBox;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>White-box measurements against a direct float64 computation (docs/paper.md §4).</summary>
public class WhiteBoxTests
{
    private static readonly CrateConfig Tiny = new(Dim: 12, Depth: 3, Heads: 3, ImageSize: 8, PatchSize: 4, Channels: 1, NumClasses: 4);

    /// <summary>½ logdet(I_n + a·X Xᵀ) of one sample X [n, m], straight from the definition (n×n).</summary>
    private static double DirectHalfLogDet(Tensor x, double a)
    {
        using var scope = NewDisposeScope();
        var n = x.shape[0];
        var gram = matmul(x, x.t());                                       // [n, n] = ZᵀZ with tokens as columns of Z
        return 0.5 * linalg.slogdet(eye(n, dtype: ScalarType.Float64) + a * gram).Item2.item<double>();
    }

    private static Tensor UnitRows(Tensor x) => x / x.norm(-1, keepdim: true);

    [Fact]
    public void CodingRateOfATinyMatrixMatchesHandComputation()
    {
        // One sample, n = 2 orthonormal tokens in d = 2: ZᵀZ = I, so R = ½·2·log(1 + d/(n ε²)) = log(1 + 100).
        using var scope = NewDisposeScope();
        var z = eye(2, dtype: ScalarType.Float64).reshape(1, 2, 2);
        Assert.Equal(Math.Log(101), CodingRate.Rate(z)[0], 10);
        // Two equal tokens (1, 0): Gram = [[1, 1], [1, 1]] with eigenvalues 2, 0 → R = ½ log(1 + 200).
        var same = tensor(new double[] { 1, 0, 1, 0 }).reshape(1, 2, 2);
        Assert.Equal(0.5 * Math.Log(201), CodingRate.Rate(same)[0], 10);
    }

    [Fact]
    public void RowsMatchADirectFloat64Computation()
    {
        using var scope = NewDisposeScope();
        manual_seed(30);
        using var model = new CrateClassifier(Tiny);
        model.eval();
        var images = randn(4, 1, 8, 8);
        var rows = WhiteBoxProbe.Measure(model, images, "val");

        // Direct: walk the layers by hand, float64, one sample at a time, n×n logdets.
        var z = model.Embed(images).detach();
        long n = z.shape[1];
        const double eps2 = 0.01;
        int p = Tiny.HeadDim;
        for (int l = 1; l <= Tiny.Depth; l++)
        {
            var layer = model.Encoder.Layers[l - 1];
            var w = layer.Project(z).detach().to_type(ScalarType.Float64);   // [B, n, K·p]
            var after = layer.ProjectAfterStep(z).detach().to_type(ScalarType.Float64);   // U·LN(Z^{l+1/2}) [B, n, K·p]
            var next = layer.forward(z).detach();
            var rc = new List<double>();
            var rcAfter = new List<double>();
            var r = new List<double>();
            var zeros = new List<double>();
            for (int b = 0; b < 4; b++)
            {
                double sum = 0;
                for (int k = 0; k < Tiny.Heads; k++)
                    sum += DirectHalfLogDet(UnitRows(w[b].narrow(1, k * p, p)), p / (n * eps2));
                rc.Add(sum);
                double sumAfter = 0;
                for (int k = 0; k < Tiny.Heads; k++)
                    sumAfter += DirectHalfLogDet(UnitRows(after[b].narrow(1, k * p, p)), p / (n * eps2));
                rcAfter.Add(sumAfter);
                r.Add(DirectHalfLogDet(UnitRows(next[b].to_type(ScalarType.Float64)), Tiny.Dim / (n * eps2)));
                zeros.Add(next[b].eq(0).sum().item<long>() / (double)(n * Tiny.Dim));
            }
            AssertRow(rows, l, WhiteBoxMeasures.Rc, rc);
            AssertRow(rows, l, WhiteBoxMeasures.RcAfterStep, rcAfter);
            AssertRow(rows, l, WhiteBoxMeasures.R, r);
            AssertRow(rows, l, WhiteBoxMeasures.ZeroFraction, zeros);
            AssertRow(rows, l, WhiteBoxMeasures.Nonzero, zeros.Select(f => 1 - f).ToList());
            z = next;
        }
        Assert.Equal(Tiny.Depth * 5, rows.Count);
        Assert.All(rows, row => Assert.Equal("val", row.Split));
    }

    private static void AssertRow(IReadOnlyList<WhiteBoxRow> rows, int layer, string measure, List<double> perSample)
    {
        var row = Assert.Single(rows, x => x.Layer == layer && x.Measure == measure);
        double mean = perSample.Average();
        double std = Math.Sqrt(perSample.Sum(v => (v - mean) * (v - mean)) / (perSample.Count - 1));
        Assert.Equal(perSample.Count, row.Samples);
        Assert.True(Math.Abs(mean - row.Mean) <= 1e-8 * Math.Max(1, Math.Abs(mean)), $"{measure}@{layer}: mean {row.Mean} vs {mean}");
        Assert.True(Math.Abs(std - row.Std) <= 1e-8 * Math.Max(1, std), $"{measure}@{layer}: std {row.Std} vs {std}");
    }

    [Fact]
    public void AccumulatorPoolsSamplesAcrossBatches()
    {
        using var scope = NewDisposeScope();
        manual_seed(31);
        using var model = new CrateClassifier(Tiny);
        var images = randn(6, 1, 8, 8);
        var all = WhiteBoxProbe.Measure(model, images, "train");
        var acc = new WhiteBoxAccumulator();
        WhiteBoxProbe.Add(acc, model, images.narrow(0, 0, 2));
        WhiteBoxProbe.Add(acc, model, images.narrow(0, 2, 4));
        Assert.Equal(6, acc.Samples);
        var pooled = acc.Rows("train");
        Assert.Equal(all.Count, pooled.Count);
        for (int i = 0; i < all.Count; i++)
        {
            Assert.Equal(all[i].Mean, pooled[i].Mean, 9);
            Assert.Equal(all[i].Std, pooled[i].Std, 9);
        }
        Assert.True(model.training, "the probe restores training mode");
    }

    [Fact]
    public void WorksOnCrateGptBlocks()
    {
        using var scope = NewDisposeScope();
        manual_seed(32);
        using var gpt = new CrateGptModel(new GptConfig(BlockSize: 8, VocabSize: 30, NLayer: 2, NHead: 2, NEmbd: 8));
        gpt.eval();
        var rows = WhiteBoxProbe.Measure(gpt.Layers, gpt.Embed(randint(0, 30, [3, 8])), "val");
        Assert.Equal(8, rows.Count);
        Assert.All(rows, r => Assert.True(double.IsFinite(r.Mean) && r.Samples == 3));
    }
}
