using Crate.Core.Contract;
using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.WhiteBox;

/// <summary>Names of the measures in <see cref="WhiteBoxRow.Measure"/>.</summary>
public static class WhiteBoxMeasures
{
    /// <summary>Compression term R^c(Z^ℓ | U^ℓ) of layer ℓ's input, through its own projection.</summary>
    public const string Rc = "Rc";

    /// <summary>Coding rate R(Z^{ℓ+1}) of layer ℓ's output.</summary>
    public const string R = "R";

    /// <summary>Fraction of exact zeros in layer ℓ's (ISTA) output Z^{ℓ+1}.</summary>
    public const string ZeroFraction = "zero_fraction";

    /// <summary>Fraction of non-zeros ‖Z^{ℓ+1}‖₀/(d·n), what the paper's sparsity plot shows.</summary>
    public const string Nonzero = "nonzero";

    /// <summary>R^c through layer ℓ's own projection after its MSSA step (<see cref="Modules.ICrateLayer.ProjectAfterStep"/>); compare with <see cref="Rc"/>.</summary>
    public const string RcAfterStep = "Rc_after_mssa";
}

/// <summary>
/// Layer-wise white-box measurements (docs/paper.md §4), following the reference's protocol: for
/// layer ℓ = 1..L, R^c of U^ℓ·LN₁(Z^ℓ) for all tokens incl. [CLS] (per-head ℓ2-normalised tokens,
/// ε² = 0.01, ½ Σ_k logdet, natural log), R of the layer output Z^{ℓ+1} (same protocol), and the
/// zero / non-zero fractions of Z^{ℓ+1}; per sample in float64, then mean ± std (unbiased, as
/// torch.std) over all samples added. Feed several batches with <see cref="Add"/> to measure more
/// samples than fit in one.
/// </summary>
public sealed class WhiteBoxAccumulator
{
    private readonly double epsSquared;
    private readonly bool normalizeTokens;
    private readonly SortedDictionary<(int Layer, string Measure), List<double>> values = new();

    /// <summary>Accumulator with the reference's ε² = 0.01 and token normalisation unless told otherwise.</summary>
    public WhiteBoxAccumulator(double epsSquared = CodingRate.DefaultEpsSquared, bool normalizeTokens = true)
    {
        this.epsSquared = epsSquared;
        this.normalizeTokens = normalizeTokens;
    }

    /// <summary>Number of samples added so far.</summary>
    public int Samples { get; private set; }

    /// <summary>
    /// Runs <paramref name="layers"/> on Z^1 = <paramref name="z1"/> [B, n, d] without gradients and
    /// records every measure of every layer for each of the B samples. Every layer sees all n tokens; with
    /// <paramref name="tokens"/> [B, m] (positions, int64) only those m tokens of each sample are measured (e.g. the
    /// patch tokens without [CLS], or a CRATE-MAE decoder's mask tokens alone). Layers that offer
    /// <see cref="ICrateLayer.ProjectAfterStep"/> also get <see cref="WhiteBoxMeasures.RcAfterStep"/>.
    /// </summary>
    public void Add(IReadOnlyList<ICrateLayer> layers, Tensor z1, Tensor? tokens = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z = z1;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            Record(i + 1, WhiteBoxMeasures.Rc,
                CodingRate.CompressionTerm(Select(layer.Project(z)), layer.Heads, epsSquared, normalizeTokens));
            if (layer.ProjectAfterStep(z) is { } after)
                Record(i + 1, WhiteBoxMeasures.RcAfterStep, CodingRate.CompressionTerm(Select(after), layer.Heads, epsSquared, normalizeTokens));
            z = layer.forward(z);                                                 // Z^{ℓ+1} [B, n, d]
            var measured = Select(z);                                             // [B, m, d]
            Record(i + 1, WhiteBoxMeasures.R, CodingRate.Rate(measured, epsSquared, normalizeTokens));
            var zeros = CodingRate.ZeroFraction(measured);
            Record(i + 1, WhiteBoxMeasures.ZeroFraction, zeros);
            Record(i + 1, WhiteBoxMeasures.Nonzero, zeros.Select(f => 1.0 - f).ToArray());
        }
        Samples += (int)z1.shape[0];

        // [B, n, c] → [B, m, c]: the measured tokens of each sample.
        Tensor Select(Tensor x) => tokens is null ? x : x.gather(1, tokens.unsqueeze(-1).expand(-1, -1, x.shape[2]));
    }

    /// <summary>One row per (layer, measure), ordered by layer then measure, tagged with <paramref name="split"/>.</summary>
    public IReadOnlyList<WhiteBoxRow> Rows(string split) =>
        values.Select(kv => new WhiteBoxRow(kv.Key.Layer, kv.Key.Measure, split,
            kv.Value.Average(), SampleStd(kv.Value), kv.Value.Count)).ToList();

    private void Record(int layer, string measure, double[] perSample)
    {
        if (!values.TryGetValue((layer, measure), out var list))
            values[(layer, measure)] = list = new List<double>();
        list.AddRange(perSample);
    }

    private static double SampleStd(List<double> xs)
    {
        if (xs.Count < 2)
            return 0.0;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
    }
}

/// <summary>One-call white-box measurements of a model on a batch.</summary>
public static class WhiteBoxProbe
{
    /// <summary>
    /// Measures a CRATE classifier on images [B, C, H, W]: the model is put in eval mode for the call
    /// (and restored), Z^1 = f^pre(images), then every layer as <see cref="WhiteBoxAccumulator"/>.
    /// </summary>
    public static IReadOnlyList<WhiteBoxRow> Measure(CrateClassifier model, Tensor images, string split,
        double epsSquared = CodingRate.DefaultEpsSquared, bool normalizeTokens = true)
    {
        var acc = new WhiteBoxAccumulator(epsSquared, normalizeTokens);
        Add(acc, model, images);
        return acc.Rows(split);
    }

    /// <summary>Adds one batch of images of a CRATE classifier to <paramref name="accumulator"/> (eval mode for the call).</summary>
    public static void Add(WhiteBoxAccumulator accumulator, CrateClassifier model, Tensor images)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            accumulator.Add(model.Encoder.Layers, model.Embed(images));
        }
        finally
        {
            if (wasTraining)
                model.train();
        }
    }

    /// <summary>Measures any stack of CRATE layers (vision, GPT, BERT) from its input Z^1 [B, n, d].</summary>
    public static IReadOnlyList<WhiteBoxRow> Measure(IReadOnlyList<ICrateLayer> layers, Tensor z1, string split,
        double epsSquared = CodingRate.DefaultEpsSquared, bool normalizeTokens = true)
    {
        var acc = new WhiteBoxAccumulator(epsSquared, normalizeTokens);
        acc.Add(layers, z1);
        return acc.Rows(split);
    }
}
