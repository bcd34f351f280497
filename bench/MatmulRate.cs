using System.Diagnostics;
using static TorchSharp.torch;

namespace Crate.Bench;

/// <summary>fp32 square matmul rate through the same libtorch and thread count as the models.</summary>
internal static class MatmulRate
{
    /// <summary>Median GFLOP/s (2n³ FLOPs per product) over several products of each size.</summary>
    public static List<(int Size, double Gflops)> Measure(int[] sizes)
    {
        var result = new List<(int, double)>();
        foreach (int n in sizes)
        {
            using var scope = NewDisposeScope();
            var a = randn(n, n);
            var b = randn(n, n);
            for (int i = 0; i < 2; i++)
                matmul(a, b).Dispose();                        // warm-up
            int reps = n <= 1024 ? 20 : 6;
            var times = new List<double>();
            for (int i = 0; i < reps; i++)
            {
                var sw = Stopwatch.StartNew();
                matmul(a, b).Dispose();
                times.Add(sw.Elapsed.TotalSeconds);
            }
            times.Sort();
            result.Add((n, 2.0 * n * n * (double)n / times[times.Count / 2] / 1e9));
        }
        return result;
    }
}
