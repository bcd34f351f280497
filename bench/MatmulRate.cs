using System.Diagnostics;
using Crate.Core.Training;
using static TorchSharp.torch;

namespace Crate.Bench;

/// <summary>One matmul reference: <c>[M, K] × [K, N]</c> in one precision, the best of its repeats.</summary>
internal sealed record MatmulReference(string Shape, long M, long K, long N, string Precision, int Repeats, double BestSeconds, double Gflops);

/// <summary>Matrix-multiply rate through the same libtorch and thread count as the models, fp32 or bf16.</summary>
internal static class MatmulRate
{
    /// <summary>
    /// The best GFLOP/s (2·M·K·N FLOPs per product) of <c>[M, K] × [K, N]</c>: two untimed products, then products
    /// repeated until <paramref name="seconds"/> have passed (at least 5, at most 1,000); the fastest counts, as the
    /// machine's rate is what it reaches when nothing else runs.
    /// </summary>
    public static MatmulReference Measure(string shape, long m, long k, long n, Precision precision, double seconds)
    {
        using var scope = NewDisposeScope();
        var dtype = precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var a = randn([m, k]).to(dtype);
        var b = randn([k, n]).to(dtype);
        for (int i = 0; i < 2; i++)
            matmul(a, b).Dispose();
        double best = double.MaxValue, total = 0;
        int reps = 0;
        while (reps < 5 || (total < seconds && reps < 1000))
        {
            var sw = Stopwatch.StartNew();
            using (var product = matmul(a, b)) { }
            double t = sw.Elapsed.TotalSeconds;
            best = Math.Min(best, t);
            total += t;
            reps++;
        }
        return new MatmulReference(shape, m, k, n, precision == Precision.Bf16 ? "bf16" : "fp32", reps, best, 2.0 * m * k * n / best / 1e9);
    }
}
