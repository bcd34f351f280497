using Crate.Core.Contract;

namespace Crate.Core.Evaluation;

/// <summary>
/// The config keys of the controls and low-label probes that every pre-training task (mae, dino, bert) shares, so a
/// user sets them alike everywhere (<c>--set eval.low_label=10,100</c>).
/// </summary>
public static class ProbeKeys
{
    /// <summary><c>eval.low_label</c>.</summary>
    public static readonly ConfigKey<string> LowLabel = Key.String("eval.low_label", "10,100",
        "labelled training samples per class of the low-label probes, comma-separated (k-NN and linear probe on a class-balanced subset fixed per seed, the same for every model and the raw input; empty: none)");

    /// <summary><c>eval.controls</c>.</summary>
    public static readonly ConfigKey<bool> Controls = Key.Bool("eval.controls", true,
        "also measure the controls: the same probes on the encoder at its initialisation (same seed, no training) and, where the task fine-tunes, fine-tuning from scratch with the same recipe");

    /// <summary>The per-class counts of <see cref="LowLabel"/>, ascending; a <see cref="ConfigException"/> naming the key for anything but positive integers.</summary>
    public static IReadOnlyList<int> LowLabelCounts(ResolvedConfig config)
    {
        string text = config.Get(LowLabel).Trim();
        if (text.Length == 0) return [];
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int k) || k <= 0)
                throw new ConfigException($"config key '{LowLabel.Name}': '{text}' is not a comma-separated list of positive integers (e.g. 10,100; empty for none)");
            counts.Add(k);
        }
        return counts.Distinct().Order().ToList();
    }
}
