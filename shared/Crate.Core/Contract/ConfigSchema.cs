using System.Globalization;
using System.Text.Json;

namespace Crate.Core.Contract;

/// <summary>The value types a config key can hold.</summary>
public enum ConfigType
{
    /// <summary>64-bit integer.</summary>
    Int,
    /// <summary>Double-precision number.</summary>
    Float,
    /// <summary>true / false.</summary>
    Bool,
    /// <summary>Free text.</summary>
    String,
    /// <summary>One of a fixed set of strings.</summary>
    Choice,
}

/// <summary>Thrown when a config value or key is rejected; the message names the key and what is allowed.</summary>
public class ConfigException(string message) : BadInputException(message);

/// <summary>
/// One config key: its dotted name (<c>model.dim</c>, <c>train.lr</c>), type, default, description and
/// bounds. Values are stored as <see cref="long"/>, <see cref="double"/>, <see cref="bool"/> or <see cref="string"/>.
/// </summary>
public class ConfigKey
{
    private protected ConfigKey(string name, ConfigType type, object @default, string description,
        double? min, double? max, IReadOnlyList<string>? choices)
    {
        Name = name; Type = type; Description = description; Min = min; Max = max; Choices = choices;
        Default = Validate(@default);
    }

    /// <summary>Dotted key name.</summary>
    public string Name { get; }
    /// <summary>Value type.</summary>
    public ConfigType Type { get; }
    /// <summary>Default value (already validated).</summary>
    public object Default { get; }
    /// <summary>What the key means.</summary>
    public string Description { get; }
    /// <summary>Inclusive lower bound for numbers.</summary>
    public double? Min { get; }
    /// <summary>Inclusive upper bound for numbers.</summary>
    public double? Max { get; }
    /// <summary>Allowed values for <see cref="ConfigType.Choice"/>.</summary>
    public IReadOnlyList<string>? Choices { get; }

    /// <summary>
    /// Whether <see cref="ResolvedConfig.ToJson"/> leaves the key out while it holds its default (see
    /// <see cref="Key.OmittedAtDefault{T}"/>): a key added to existing schemas this way keeps the run keys and
    /// <c>config.json</c> of every run that does not set it, and gives the runs that do a key of their own.
    /// </summary>
    public bool OmitAtDefault { get; internal set; }

    /// <summary>Whether <paramref name="value"/> (of this key's type) equals <see cref="Default"/>.</summary>
    public bool IsDefault(object value) => Equals(Validate(value), Default);

    /// <summary>A human description of the allowed values, for error messages and <c>list</c>.</summary>
    public string Allowed => Type switch
    {
        ConfigType.Choice => "one of " + string.Join(", ", Choices!),
        ConfigType.Bool => "true or false",
        ConfigType.String => "text",
        _ => (Type == ConfigType.Int ? "an integer" : "a number")
             + (Min is { } lo && Max is { } hi ? $" in [{Fmt(lo)}, {Fmt(hi)}]"
                : Min is { } l ? $" >= {Fmt(l)}" : Max is { } h ? $" <= {Fmt(h)}" : ""),
    };

    /// <summary>Parses a command-line string into this key's type and validates it.</summary>
    public object Parse(string text)
    {
        text = text.Trim();
        object value = Type switch
        {
            ConfigType.Int => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
                : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d
                : throw Bad(text),
            ConfigType.Float => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : throw Bad(text),
            ConfigType.Bool => text.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" => false,
                _ => throw Bad(text),
            },
            _ => text,
        };
        return Validate(value);
    }

    /// <summary>Checks a value of the right CLR type against bounds and choices.</summary>
    public object Validate(object value)
    {
        switch (Type)
        {
            case ConfigType.Int:
                long l = value switch { long x => x, int x => x, _ => throw Bad(value) };
                CheckRange(l);
                return l;
            case ConfigType.Float:
                double d = value switch { double x => x, float x => x, long x => x, int x => x, _ => throw Bad(value) };
                if (double.IsNaN(d) || double.IsInfinity(d)) throw Bad(value);
                CheckRange(d);
                return d;
            case ConfigType.Bool:
                return value is bool b ? b : throw Bad(value);
            case ConfigType.Choice:
                if (value is string s && Choices!.Contains(s)) return s;
                throw Bad(value);
            default:
                return value as string ?? throw Bad(value);
        }
    }

    /// <summary>Formats a value the way <see cref="Parse"/> reads it back.</summary>
    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private void CheckRange(double v)
    {
        if ((Min is { } lo && v < lo) || (Max is { } hi && v > hi))
            throw new ConfigException($"config key '{Name}': {Fmt(v)} is out of range; allowed: {Allowed}.");
    }

    private ConfigException Bad(object value) =>
        new($"config key '{Name}': '{Format(value)}' is not valid; allowed: {Allowed}.");

    private static string Fmt(double v) => v.ToString("G", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Type}) = {Format(Default)}";
}

/// <summary>A config key whose value is read as <typeparamref name="T"/>.</summary>
public sealed class ConfigKey<T> : ConfigKey where T : notnull
{
    internal ConfigKey(string name, ConfigType type, object @default, string description,
        double? min = null, double? max = null, IReadOnlyList<string>? choices = null)
        : base(name, type, @default, description, min, max, choices) { }

    /// <summary>
    /// The same key (name, type, bounds, choices, <see cref="ConfigKey.OmitAtDefault"/>) with another default, and
    /// optionally another description: for a key that several tasks share (<c>model.patch_size</c>) where one task
    /// starts from another value. Values are read by name, so code may read it through either instance.
    /// </summary>
    public ConfigKey<T> WithDefault(T value, string? description = null) =>
        new(Name, Type, value, description ?? Description, Min, Max, Choices) { OmitAtDefault = OmitAtDefault };
}

/// <summary>Factories for typed config keys.</summary>
public static class Key
{
    /// <summary>An integer key.</summary>
    public static ConfigKey<long> Int(string name, long @default, string description, long? min = null, long? max = null) =>
        new(name, ConfigType.Int, @default, description, min, max);

    /// <summary>A floating-point key.</summary>
    public static ConfigKey<double> Float(string name, double @default, string description, double? min = null, double? max = null) =>
        new(name, ConfigType.Float, @default, description, min, max);

    /// <summary>A boolean key.</summary>
    public static ConfigKey<bool> Bool(string name, bool @default, string description) =>
        new(name, ConfigType.Bool, @default, description);

    /// <summary>A free-text key.</summary>
    public static ConfigKey<string> String(string name, string @default, string description) =>
        new(name, ConfigType.String, @default, description);

    /// <summary>A key restricted to <paramref name="choices"/>.</summary>
    public static ConfigKey<string> Choice(string name, string @default, string description, params string[] choices) =>
        new(name, ConfigType.Choice, @default, description, choices: choices);

    /// <summary>
    /// Marks <paramref name="key"/> as left out of <see cref="ResolvedConfig.ToJson"/> (the run key's input and
    /// <c>config.json</c>) while it holds its default; returns it. For keys added to schemas that already have
    /// finished runs, e.g. <c>train.precision</c>: fp32 runs keep their keys, bf16 runs get new ones.
    /// </summary>
    public static ConfigKey<T> OmittedAtDefault<T>(this ConfigKey<T> key) where T : notnull
    {
        key.OmitAtDefault = true;
        return key;
    }
}

/// <summary>The set of keys a task accepts, and resolution of presets and overrides against them.</summary>
public sealed class ConfigSchema
{
    private readonly Dictionary<string, ConfigKey> _keys;

    /// <summary>Creates a schema; key names must be unique.</summary>
    public ConfigSchema(IEnumerable<ConfigKey> keys)
    {
        _keys = new Dictionary<string, ConfigKey>(StringComparer.Ordinal);
        foreach (var k in keys)
            if (!_keys.TryAdd(k.Name, k)) throw new ArgumentException($"duplicate config key '{k.Name}'");
    }

    /// <summary>All keys, sorted by name.</summary>
    public IEnumerable<ConfigKey> Keys => _keys.Values.OrderBy(k => k.Name, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="name"/> is a key of this schema.</summary>
    public bool Contains(string name) => _keys.ContainsKey(name);

    /// <summary>Looks up a key or throws a <see cref="ConfigException"/> that suggests the nearest names.</summary>
    public ConfigKey Get(string name)
    {
        if (_keys.TryGetValue(name, out var key)) return key;
        var near = _keys.Keys.OrderBy(k => Distance(k, name)).ThenBy(k => k, StringComparer.Ordinal).Take(3);
        throw new ConfigException($"unknown config key '{name}'. Did you mean: {string.Join(", ", near)}? " +
                                  "('list' prints every key.)");
    }

    /// <summary>
    /// Defaults, then each layer of (key, value-as-text) overrides in order; every key and value is validated.
    /// </summary>
    public ResolvedConfig Resolve(params IEnumerable<KeyValuePair<string, string>>[] layers)
    {
        var values = _keys.Values.ToDictionary(k => k.Name, k => k.Default, StringComparer.Ordinal);
        foreach (var layer in layers)
            foreach (var (name, text) in layer)
                values[name] = Get(name).Parse(text);
        return new ResolvedConfig(this, values);
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}

/// <summary>A complete, validated set of config values; immutable.</summary>
public sealed class ResolvedConfig
{
    private readonly SortedDictionary<string, object> _values;

    internal ResolvedConfig(ConfigSchema schema, IDictionary<string, object> values)
    {
        Schema = schema;
        _values = new SortedDictionary<string, object>(values, StringComparer.Ordinal);
    }

    /// <summary>The schema the values were validated against.</summary>
    public ConfigSchema Schema { get; }

    /// <summary>Every value, sorted by key.</summary>
    public IReadOnlyDictionary<string, object> Values => _values;

    /// <summary>The typed value of <paramref name="key"/>.</summary>
    public T Get<T>(ConfigKey<T> key) where T : notnull => (T)_values[key.Name];

    /// <summary>An integer value as <see cref="int"/>.</summary>
    public int GetInt(ConfigKey<long> key) => checked((int)Get(key));

    /// <summary>A copy with some keys changed (validated).</summary>
    public ResolvedConfig With(params (string Key, string Value)[] changes) =>
        Schema.Resolve(Values.Select(kv => KeyValuePair.Create(kv.Key, ConfigKey.Format(kv.Value))),
            changes.Select(c => KeyValuePair.Create(c.Key, c.Value)));

    /// <summary>
    /// Canonical JSON (sorted keys, invariant numbers): the input to run-key hashing and config.json. Keys marked
    /// <see cref="ConfigKey.OmitAtDefault"/> are left out while they hold their default (<see cref="FromJson"/>
    /// restores them).
    /// </summary>
    public string ToJson(bool indented = false)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            w.WriteStartObject();
            foreach (var (k, v) in _values)
            {
                if (Schema.Contains(k) && Schema.Get(k) is { OmitAtDefault: true } key && key.IsDefault(v)) continue;
                switch (v)
                {
                    case long l: w.WriteNumber(k, l); break;
                    case double d: w.WriteNumber(k, d); break;
                    case bool b: w.WriteBoolean(k, b); break;
                    default: w.WriteString(k, (string)v); break;
                }
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Reads a config written by <see cref="ToJson"/> back against <paramref name="schema"/>.</summary>
    public static ResolvedConfig FromJson(ConfigSchema schema, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var pairs = doc.RootElement.EnumerateObject().Select(p => KeyValuePair.Create(p.Name,
            p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()));
        return schema.Resolve(pairs);
    }
}
