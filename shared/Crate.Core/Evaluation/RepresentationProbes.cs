namespace Crate.Core.Evaluation;

/// <summary>
/// Which probes <see cref="RepresentationProbes.Run"/> runs: weighted k-NN for every k of
/// <see cref="KnnKs"/> (null: 20 and 1) at temperature <see cref="Temperature"/>, and the linear probe
/// unless <see cref="Linear"/> is false.
/// </summary>
public sealed record ProbeOptions(
    IReadOnlyList<int>? KnnKs = null,
    double Temperature = KnnClassifier.DefaultTemperature,
    int KnnChunkSize = KnnClassifier.DefaultChunkSize,
    bool Linear = true,
    LinearProbeOptions? LinearOptions = null)
{
    /// <summary>The k of the k-NN probes when <see cref="KnnKs"/> is null: DINO's 20 and plain nearest neighbour.</summary>
    public static IReadOnlyList<int> DefaultKs { get; } = [KnnClassifier.DefaultK, 1];
}

/// <summary>Results of <see cref="RepresentationProbes.Run"/>.</summary>
public sealed record ProbeResult(IReadOnlyList<KnnResult> Knn, LinearProbeResult? Linear)
{
    /// <summary>
    /// The results as metrics (accuracies in %): <c>{prefix}knn{k}_top1</c> for every k,
    /// <c>{prefix}knn{k}_top5</c> where top-5 exists (more than 5 classes) and k ≥ 5, and for the linear
    /// probe <c>{prefix}linear_top1</c>, <c>{prefix}linear_l2</c> (chosen λ) and, when a validation
    /// split was made, <c>{prefix}linear_val_top1</c>.
    /// </summary>
    public IReadOnlyDictionary<string, double> ToMetrics(string prefix = "")
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var knn in Knn)
        {
            metrics[$"{prefix}knn{knn.K}_top1"] = knn.Top1;
            if (knn.Top5 is double top5 && knn.K >= 5)
                metrics[$"{prefix}knn{knn.K}_top5"] = top5;
        }
        if (Linear is not null)
        {
            metrics[$"{prefix}linear_top1"] = Linear.TestTop1;
            metrics[$"{prefix}linear_l2"] = Linear.L2;
            if (!double.IsNaN(Linear.ValidationTop1))
                metrics[$"{prefix}linear_val_top1"] = Linear.ValidationTop1;
        }
        return metrics;
    }
}

/// <summary>
/// One call for the representation probes of a frozen encoder's features (or of raw inputs, see
/// <see cref="RawFeatures"/> and <see cref="BagOfTokens"/>): DINO's weighted k-NN and a linear probe.
/// </summary>
public static class RepresentationProbes
{
    /// <summary>Runs the k-NN probes and (unless disabled) the linear probe of <paramref name="test"/> given <paramref name="train"/>.</summary>
    public static ProbeResult Run(FeatureSet train, FeatureSet test, ProbeOptions? options = null)
    {
        options ??= new ProbeOptions();
        var ks = options.KnnKs ?? ProbeOptions.DefaultKs;
        var knn = ks.Count == 0 ? [] : KnnClassifier.Evaluate(train, test, ks, options.Temperature, options.KnnChunkSize);
        var linear = options.Linear ? LinearProbe.Run(train, test, options.LinearOptions) : null;
        return new ProbeResult(knn, linear);
    }
}
