using Crate.Core.Contract;

namespace Crate.Core.Evaluation;

/// <summary>
/// The metric names and declarations of a <see cref="ProbeSuite"/> run on a pre-training task's encoder, with its two
/// controls: the same probes on the encoder at its initialisation (<c>init_</c>) and on the raw input (<c>raw_</c>).
/// Full-label probes report top-1 (and 20-NN top-5 with more than 5 classes); each low-label budget (<c>l10_</c>,
/// <c>l100_</c>) reports top-1. The linear probe's chosen λ and validation accuracy stay in the run log.
/// </summary>
public static class ProbeMetrics
{
    /// <summary>Prefix of the initialisation control.</summary>
    public const string InitPrefix = "init_";

    /// <summary>Prefix of the raw-input control.</summary>
    public const string RawPrefix = "raw_";

    /// <summary>The full-label probe metrics (without prefix), in report order.</summary>
    public static IReadOnlyList<string> FullLabel { get; } = ["knn20_top1", "knn20_top5", "knn1_top1", "linear_top1"];

    /// <summary>The low-label probe metrics of one budget (without prefixes).</summary>
    public static IReadOnlyList<string> LowLabel { get; } = ["knn20_top1", "knn1_top1", "linear_top1"];

    /// <summary>The per-class counts the declarations cover (the presets' <c>eval.low_label</c>).</summary>
    public static IReadOnlyList<int> DeclaredBudgets { get; } = [10, 100];

    /// <summary>Whether <paramref name="name"/> (a key of <see cref="ProbeSuite.Run"/>, prefix removed) is one the tasks report.</summary>
    public static bool Reported(string name) =>
        FullLabel.Contains(name) || (name.StartsWith('l') && name.IndexOf('_') is var u and > 1
                                     && int.TryParse(name.AsSpan(1, u - 1), out _) && LowLabel.Contains(name[(u + 1)..]));

    /// <summary>
    /// The declarations, treated metrics first: for <paramref name="feature"/> (e.g. "frozen encoder [CLS] of unmasked
    /// images") every full-label and low-label metric, then its <c>init_</c> and <c>raw_</c> controls, each naming the
    /// treated metric in <see cref="MetricInfo.Control"/>. <paramref name="rawInput"/> names the input ("raw pixels").
    /// </summary>
    public static IReadOnlyList<MetricInfo> Declare(string feature, string rawInput)
    {
        var treated = new List<(string Name, string What)>();
        foreach (var name in FullLabel)
            treated.Add((name, $"{Describe(name)} on {feature}, fitted on the probe training images"));
        foreach (int k in DeclaredBudgets)
            foreach (var name in LowLabel)
                treated.Add(($"l{k}_{name}", $"{Describe(name)} on {feature}, fitted on {k} labelled training images per class (fixed per seed)"));
        var list = treated.Select(t => new MetricInfo(t.Name, t.What, true, "%")).ToList();
        list.AddRange(treated.Select(t => new MetricInfo(InitPrefix + t.Name,
            $"control: the same as {t.Name} on the encoder at its initialisation (same seed, no training)", true, "%",
            new MetricControl(t.Name, ControlKind.Initialisation))));
        list.AddRange(treated.Select(t => new MetricInfo(RawPrefix + t.Name,
            $"control: the same as {t.Name} on the {rawInput}", true, "%", new MetricControl(t.Name, ControlKind.RawInput))));
        return list;
    }

    /// <summary>The reported metrics of <paramref name="probes"/> (a <see cref="ProbeSuite.Run"/> result under <paramref name="prefix"/>).</summary>
    public static IEnumerable<KeyValuePair<string, double>> Select(IReadOnlyDictionary<string, double> probes, string prefix = "") =>
        probes.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal) && Reported(p.Key[prefix.Length..]));

    private static string Describe(string name) => name switch
    {
        "knn20_top1" => "20-NN (DINO weighted) top-1",
        "knn20_top5" => "20-NN top-5 (more than 5 classes)",
        "knn1_top1" => "1-NN top-1",
        "linear_top1" => "linear probe (L-BFGS, L2 chosen on a training split) top-1",
        _ => name,
    };
}
