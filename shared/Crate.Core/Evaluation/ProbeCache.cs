using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>
/// Probe results of inputs that depend on no model (raw pixels, bag of words), kept in a folder shared by the runs
/// of one results folder (<see cref="Contract.IRunContext.CacheDirectory"/>), so the raw-input baseline is fitted once
/// instead of once per run (every model and seed of a task probes the same pixels: on Fashion-MNIST's 12,000 × 784
/// pixels the linear probe alone costs minutes of CPU).
/// <para>
/// The key is SHA-256 over everything the result depends on: the training and test features and labels as stored
/// (bytes of the float32 tensors), the class count, the probe options and <see cref="FormatVersion"/>. Another data
/// folder, transform, subset or option is another key, so a stale entry can never be read. Entries are small JSON
/// files written to a temporary name and renamed, so two job processes computing the same entry at once both
/// succeed and a killed writer leaves no half entry; an unreadable entry is recomputed and replaced.
/// </para>
/// </summary>
public sealed class ProbeCache(string directory)
{
    /// <summary>Bumped when the probes' code changes their results, so old entries are not reused.</summary>
    public const int FormatVersion = 1;

    /// <summary>The cache folder.</summary>
    public string Directory { get; } = directory;

    /// <summary>The cache in <paramref name="directory"/>, or null (no caching) when it is null.</summary>
    public static ProbeCache? At(string? directory) => directory is null ? null : new ProbeCache(directory);

    /// <summary>The metrics of <see cref="RepresentationProbes.Run"/> on (<paramref name="train"/>, <paramref name="test"/>), from the cache or computed and stored.</summary>
    public IReadOnlyDictionary<string, double> Run(FeatureSet train, FeatureSet test, ProbeOptions options)
    {
        string path = Path.Combine(Directory, $"probe-{Key(train, test, options)}.json");
        if (TryRead(path) is { } cached)
            return cached;
        var metrics = RepresentationProbes.Run(train, test, options).ToMetrics();
        Write(path, metrics);
        return metrics;
    }

    /// <summary>The hex SHA-256 key of one probe evaluation (see the class summary).</summary>
    public static string Key(FeatureSet train, FeatureSet test, ProbeOptions options)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            FormatVersion,
            Ks = options.KnnKs ?? ProbeOptions.DefaultKs,
            options.Temperature,
            LinearProbe = options.Linear,
            LinearOptions = options.LinearOptions ?? new LinearProbeOptions(),
            train.NumClasses,
            TrainShape = train.Features.shape,
            TestShape = test.Features.shape,
        })));
        foreach (var tensor in new[] { train.Features, train.Labels, test.Features, test.Labels })
            Append(sha, tensor);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static void Append(IncrementalHash sha, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.cpu().contiguous();
        if (cpu.dtype == ScalarType.Float32) sha.AppendData(MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()));
        else if (cpu.dtype == ScalarType.Int64) sha.AppendData(MemoryMarshal.AsBytes(cpu.data<long>().ToArray().AsSpan()));
        else sha.AppendData(MemoryMarshal.AsBytes(cpu.to(ScalarType.Float64).data<double>().ToArray().AsSpan()));
    }

    private static Dictionary<string, double>? TryRead(string path)
    {
        try
        {
            if (!File.Exists(path)) return null;
            return JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(path), JsonOptions);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;                                                                  // unreadable: recompute and replace
        }
    }

    private void Write(string path, IReadOnlyDictionary<string, double> metrics)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string temporary = $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            File.WriteAllText(temporary, JsonSerializer.Serialize(metrics, JsonOptions));
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
