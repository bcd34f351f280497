using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Training;

/// <summary>Cross-entropy with label smoothing and ignored targets.</summary>
public class LossTests
{
    [Fact]
    public void LabelSmoothingMatchesTheFormula()
    {
        using var scope = NewDisposeScope();
        double[] row0 = [2.0, 0.5, -1.0], row1 = [0.0, 0.0, 3.0];
        var logits = tensor(row0.Concat(row1).ToArray(), [2, 3], float64);
        var target = tensor(new long[] { 0, 1 });
        double eps = 0.1;
        double Expected(double[] z, int y)
        {
            double lse = Math.Log(z.Sum(Math.Exp));
            var nll = z.Select(v => lse - v).ToArray();                 // −log p_k
            return (1 - eps) * nll[y] + eps * nll.Average();
        }
        double expected = (Expected(row0, 0) + Expected(row1, 1)) / 2;
        Assert.Equal(expected, Losses.CrossEntropy(logits, target, eps).ToDouble(), 12);
        Assert.Equal(nn.functional.cross_entropy(logits, target).ToDouble(), Losses.CrossEntropy(logits, target).ToDouble(), 12);
    }

    [Fact]
    public void IgnoredTargetsDoNotCount()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new double[] { 1, 2, 3, 4, 5, 6, 0, 0, 9 }, [3, 3], float64);
        var withIgnored = Losses.CrossEntropy(logits, tensor(new long[] { 2, -1, 0 }), ignoreIndex: -1);
        var kept = Losses.CrossEntropy(logits.index_select(0, tensor(new long[] { 0, 2 })), tensor(new long[] { 2, 0 }));
        Assert.Equal(kept.ToDouble(), withIgnored.ToDouble(), 12);
    }
}
