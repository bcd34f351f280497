using System.Globalization;
using Crate.Core.Training;

namespace Crate.Plugins.Sample;

/// <summary>
/// Token sets drawn from a union of low-dimensional subspaces, the data model CRATE is derived from
/// (docs/paper.md §1.1): class c owns a random r-dimensional subspace U_c of R^d; a sample of class c is
/// n tokens z_i = U_c a_i + σ ε_i with a_i ~ N(0, I_r), ε_i ~ N(0, I_d). The label is c.
/// </summary>
public sealed class SubspaceData
{
    /// <summary>Samples × tokens × dim, row-major.</summary>
    public required float[] Tokens { get; init; }
    /// <summary>One label per sample.</summary>
    public required long[] Labels { get; init; }
    /// <summary>Tokens per sample.</summary>
    public required int TokenCount { get; init; }
    /// <summary>Dimension of a token.</summary>
    public required int Dim { get; init; }
    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;

    /// <summary>The first <paramref name="count"/> samples.</summary>
    public SubspaceData Take(int count) => new()
    {
        Tokens = Tokens[..(count * TokenCount * Dim)], Labels = Labels[..count], TokenCount = TokenCount, Dim = Dim,
    };

    /// <summary>
    /// Generates <paramref name="count"/> samples. The subspaces depend only on <paramref name="dataSeed"/>,
    /// so the training and test splits (different <paramref name="splitSeed"/>) share them.
    /// </summary>
    public static SubspaceData Generate(int count, int classes, int tokens, int dim, int rank, double noise, long dataSeed, long splitSeed)
    {
        var basisRng = new DeterministicRng(SeedMath.Derive(dataSeed, "subspaces"));
        var bases = new double[classes][];
        for (int c = 0; c < classes; c++)
        {
            bases[c] = new double[dim * rank];                   // [d, r], columns scaled to unit expected norm
            for (int i = 0; i < bases[c].Length; i++) bases[c][i] = Gaussian(basisRng) / Math.Sqrt(dim);
        }
        var rng = new DeterministicRng(SeedMath.Derive(dataSeed, splitSeed));
        var x = new float[count * tokens * dim];
        var y = new long[count];
        var a = new double[rank];
        for (int s = 0; s < count; s++)
        {
            int c = rng.NextInt(classes);
            y[s] = c;
            for (int t = 0; t < tokens; t++)
            {
                for (int j = 0; j < rank; j++) a[j] = Gaussian(rng);
                int row = (s * tokens + t) * dim;
                for (int i = 0; i < dim; i++)
                {
                    double v = noise * Gaussian(rng) / Math.Sqrt(dim);
                    for (int j = 0; j < rank; j++) v += bases[c][i * rank + j] * a[j];
                    x[row + i] = (float)(v * Math.Sqrt(dim));   // unit-scale coordinates
                }
            }
        }
        return new SubspaceData { Tokens = x, Labels = y, TokenCount = tokens, Dim = dim };
    }

    /// <summary>
    /// Reads a CSV file: a header line, then one sample per line: <c>label,v0,v1,…</c> with
    /// tokens × dim values (token-major). Errors name the file and line.
    /// </summary>
    public static SubspaceData ReadCsv(string path, int tokens, int dim, int classes)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: file not found");
        var labels = new List<long>();
        var values = new List<float>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (lineNo++ == 0 || line.Length == 0) continue;   // header
            var cells = line.Split(',');
            if (cells.Length != 1 + tokens * dim)
                throw new InvalidDataException($"{path}, line {lineNo}: {cells.Length} columns, expected 1 + tokens × dim = {1 + tokens * dim} (data.tokens={tokens}, data.dim={dim})");
            if (!long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var label) || label < 0 || label >= classes)
                throw new InvalidDataException($"{path}, line {lineNo}: label '{cells[0]}' is not an integer in [0, {classes})");
            labels.Add(label);
            for (int i = 1; i < cells.Length; i++)
                values.Add(float.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) ? v
                    : throw new InvalidDataException($"{path}, line {lineNo}, column {i + 1}: '{cells[i]}' is not a finite number"));
        }
        if (labels.Count == 0) throw new InvalidDataException($"{path}: no samples (only a header or empty)");
        return new SubspaceData { Tokens = values.ToArray(), Labels = labels.ToArray(), TokenCount = tokens, Dim = dim };
    }

    /// <summary>Writes the CSV format <see cref="ReadCsv"/> reads.</summary>
    public void WriteCsv(string path)
    {
        using var w = new StreamWriter(path);
        w.WriteLine("label," + string.Join(",", Enumerable.Range(0, TokenCount * Dim).Select(i => $"t{i / Dim}d{i % Dim}")));
        for (int s = 0; s < Count; s++)
            w.WriteLine(Labels[s].ToString(CultureInfo.InvariantCulture) + "," + string.Join(",",
                Tokens.Skip(s * TokenCount * Dim).Take(TokenCount * Dim).Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
    }

    private static double Gaussian(DeterministicRng rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();   // Box–Muller
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
