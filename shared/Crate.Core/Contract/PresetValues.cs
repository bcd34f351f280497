namespace Crate.Core.Contract;

/// <summary>Builders for <see cref="Preset"/> values, shared by every task's presets file.</summary>
public static class PresetValues
{
    /// <summary>No per-model values: one recipe and architecture for every model of the preset.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> NoPerModel { get; } =
        new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>Key/value pairs as <c>--set</c> would give them.</summary>
    public static Dictionary<string, string> Values(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>Per-model values: model name → its values.</summary>
    public static Dictionary<string, IReadOnlyDictionary<string, string>> PerModel(params (string Model, Dictionary<string, string> Values)[] models) =>
        models.ToDictionary(m => m.Model, m => (IReadOnlyDictionary<string, string>)m.Values, StringComparer.Ordinal);
}
