using Crate.Core.Evaluation;
using static TorchSharp.torch;

namespace Crate.Tests.Evaluation;

/// <summary>Small feature sets for the probe tests.</summary>
internal static class ProbeData
{
    /// <summary>A set from row-major features [rows.Length, D] and labels.</summary>
    public static FeatureSet Set(float[][] rows, long[] labels, int classes, string name = "set")
    {
        int d = rows[0].Length;
        var flat = rows.SelectMany(r => r).ToArray();
        return new FeatureSet(tensor(flat, ScalarType.Float32).view(rows.Length, d), tensor(labels, ScalarType.Int64), classes, name);
    }

    /// <summary>
    /// Two Gaussian clusters in <paramref name="dim"/> dimensions whose first coordinate is +2 or −2
    /// (± N(0, 0.3) noise, so |x₀| ≥ 0.5 and the classes are separated by x₀ = 0 with a wide margin);
    /// the other coordinates are N(0, 1) noise. Labels alternate 0, 1, 0, ….
    /// </summary>
    public static FeatureSet Separable(int count, int dim, int seed, string name)
    {
        var rng = new Random(seed);
        var rows = new float[count][];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 2;
            rows[i] = new float[dim];
            rows[i][0] = (float)((labels[i] == 0 ? 2.0 : -2.0) + Math.Clamp(0.3 * Gauss(rng), -1.4, 1.4));
            for (int j = 1; j < dim; j++)
                rows[i][j] = (float)Gauss(rng);
        }
        return Set(rows, labels, 2, name);
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    public static double Gauss(Random rng) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2.0 * Math.PI * rng.NextDouble());
}
