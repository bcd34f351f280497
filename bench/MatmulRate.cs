using System.Diagnostics;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Bench;

/// <summary>One matmul reference: <c>[M, K] × [K, N]</c> in one precision, the best of its repeats.</summary>
internal sealed record MatmulReference(string Shape, long M, long K, long N, string Precision, int Repeats, double BestSeconds, double Gflops);

/// <summary>Matrix-multiply rate through the same libtorch, device and thread count as the models, fp32 or bf16.</summary>
internal static class MatmulRate
{
    /// <summary>
    /// The best GFLOP/s (2·M·K·N FLOPs per product) of <c>[M, K] × [K, N]</c>: two untimed products, then products
    /// repeated until <paramref name="seconds"/> have passed (at least 5, at most 1,000); the fastest counts, as the
    /// machine's rate is what it reaches when nothing else runs.
    /// </summary>
    public static MatmulReference Measure(string shape, long m, long k, long n, Precision precision, double seconds, Device? device = null)
    {
        using var scope = NewDisposeScope();
        var dev = device ?? CPU;
        var dtype = precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var a = randn([m, k]).to(dtype).to(dev);
        var b = randn([k, n]).to(dtype).to(dev);
        // On CUDA a product only queues a kernel: wait for it inside the timed part.
        Action wait = dev.type == DeviceType.CUDA ? () => cuda.synchronize(dev) : () => { };
        for (int i = 0; i < 2; i++)
            matmul(a, b).Dispose();
        wait();
        double best = double.MaxValue, total = 0;
        int reps = 0;
        while (reps < 5 || (total < seconds && reps < 1000))
        {
            var sw = Stopwatch.StartNew();
            using (var product = matmul(a, b)) wait();
            double t = sw.Elapsed.TotalSeconds;
            best = Math.Min(best, t);
            total += t;
            reps++;
        }
        return new MatmulReference(shape, m, k, n, precision == Precision.Bf16 ? "bf16" : "fp32", reps, best, 2.0 * m * k * n / best / 1e9);
    }
}

/// <summary>
/// The matmul references of one bench run: the 2048² square and every model's largest weight product, each measured
/// once before the models run and once after them; the faster of the two rounds counts (on a shared machine one
/// round may fall in a busy moment).
/// </summary>
internal sealed class MatmulReferences(double seconds, Device? device = null)
{
    private const long Square = 2048;
    private readonly Dictionary<(long M, long K, long N, Precision P), MatmulReference> _best = [];

    /// <summary>Every measurement made, both rounds, in order.</summary>
    public List<MatmulReference> Measured { get; } = [];

    /// <summary>Measures the square and <paramref name="shapes"/> in each of <paramref name="precisions"/>, keeping the best rate per shape.</summary>
    public void MeasureRound(IEnumerable<GemmShape> shapes, IReadOnlyList<Precision> precisions)
    {
        var all = new[] { new GemmShape("square 2048", Square, Square, Square) }.Concat(shapes).DistinctBy(g => (g.M, g.K, g.N));
        foreach (var g in all)
            foreach (var p in precisions)
            {
                var r = MatmulRate.Measure(g.Name, g.M, g.K, g.N, p, seconds, device);
                Measured.Add(r);
                Console.WriteLine($"  matmul {r.Precision} [{g.M}, {g.K}] x [{g.K}, {g.N}] ({g.Name}): {r.Gflops:F1} GFLOP/s (best of {r.Repeats})");
                if (!_best.TryGetValue((g.M, g.K, g.N, p), out var known) || r.Gflops > known.Gflops) _best[(g.M, g.K, g.N, p)] = r;
            }
    }

    /// <summary>The best references, one per shape and precision.</summary>
    public IEnumerable<MatmulReference> Best => _best.Values;

    /// <summary><paramref name="row"/> with its two references filled in (null where not measured).</summary>
    public BenchRow Apply(BenchRow row)
    {
        var p = row.Precision == "bf16" ? Precision.Bf16 : Precision.Fp32;
        var g = row.LargestGemm;
        return row with
        {
            GemmGflops = _best.TryGetValue((g.M, g.K, g.N, p), out var gemm) ? gemm.Gflops : null,
            SquareGflops = _best.TryGetValue((Square, Square, Square, p), out var square) ? square.Gflops : null,
        };
    }
}
