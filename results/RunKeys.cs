using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Crate.Results;

/// <summary>
/// The stable key of a planned run. The key is the first 16 lower-case hex digits of
/// SHA-256 over the UTF-8 bytes of
/// <code>
/// crate-run/v1\n{task}\n{model}\n{seed}\n{canonical config JSON}
/// </code>
/// where <c>{seed}</c> is written in invariant digits and the config is canonicalised by
/// <see cref="CanonicalJson"/>, so key order, white space and number spelling do not change the key.
/// The same (task, model, config, seed) always gets the same key; any config change gets another.
/// </summary>
public static class RunKeys
{
    /// <summary>Length of a run key in hex digits (64 bits of the hash).</summary>
    public const int Length = 16;

    /// <summary>The run key of (task, model, config, seed); see the type's summary for the exact input.</summary>
    /// <exception cref="ResultsStoreException"><paramref name="configJson"/> is not valid JSON.</exception>
    public static string Compute(string task, string model, string configJson, int seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(task);
        ArgumentException.ThrowIfNullOrEmpty(model);
        var input = string.Join('\n', "crate-run/v1", task, model,
            seed.ToString(CultureInfo.InvariantCulture), CanonicalJson(configJson));
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(input));
        return Convert.ToHexStringLower(hash)[..Length];
    }

    /// <summary>
    /// Canonical form of a JSON text: no white space, object members sorted by ordinal key order
    /// (recursively), strings re-escaped by System.Text.Json's default encoder, integers written as
    /// integers and other numbers as the shortest round-trip double (<c>1.0</c> becomes <c>1</c>,
    /// <c>1e-3</c> becomes <c>0.001</c>).
    /// </summary>
    /// <exception cref="ResultsStoreException"><paramref name="json"/> is not valid JSON.</exception>
    public static string CanonicalJson(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ResultsStoreException($"config JSON is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
                Write(writer, document.RootElement);
            return Encoding.UTF8.GetString(buffer.ToArray());
        }
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                    Write(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number:
                WriteNumber(writer, element);
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private static void WriteNumber(Utf8JsonWriter writer, JsonElement number)
    {
        if (number.TryGetInt64(out var integer))
            writer.WriteNumberValue(integer);
        else if (!number.TryGetDouble(out var value))
            number.WriteTo(writer); // beyond double's range: keep the text as written
        else if (value == Math.Floor(value) && Math.Abs(value) < 9e15)
            writer.WriteNumberValue((long)value);
        else
            writer.WriteNumberValue(value);
    }
}
