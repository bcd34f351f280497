using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>Comparisons of tensors for the module tests.</summary>
internal static class TensorAssert
{
    /// <summary>max |a − b| in float64.</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(a.shape, b.shape);
        return (a.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64)).abs().max().item<double>();
    }

    /// <summary>Asserts every element of <paramref name="actual"/> is within <paramref name="tol"/> of <paramref name="expected"/>.</summary>
    public static void Close(Tensor expected, Tensor actual, double tol, string what = "")
    {
        double diff = MaxAbsDiff(expected, actual);
        Assert.True(diff <= tol, $"{what} max |diff| = {diff:E3} > {tol:E1}");
    }

    /// <summary>Asserts the values equal <paramref name="expected"/> (row-major) within <paramref name="tol"/>.</summary>
    public static void Values(double[] expected, Tensor actual, double tol)
    {
        var got = actual.to_type(ScalarType.Float64).data<double>().ToArray();
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(expected[i] - got[i]) <= tol, $"element {i}: expected {expected[i]}, got {got[i]}");
    }

    /// <summary>Every parameter of <paramref name="module"/> got a finite, not all-zero gradient.</summary>
    public static void AllParametersHaveGradients(nn.Module module)
    {
        foreach (var (name, p) in module.named_parameters())
        {
            var g = p.grad;
            Assert.True(g is not null, $"{name} has no gradient");
            Assert.True(g!.isfinite().all().item<bool>(), $"{name} has a non-finite gradient");
            Assert.True(g.abs().sum().item<float>() > 0, $"{name} has an all-zero gradient");
        }
    }
}
