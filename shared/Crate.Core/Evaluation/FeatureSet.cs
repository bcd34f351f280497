using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>
/// Frozen features of a labelled set, the input of the probes: <see cref="Features"/> float32 [N, D] and
/// <see cref="Labels"/> int64 [N], both on the CPU, plus the class count. Owns its two tensors (they
/// are detached from every dispose scope) and disposes them in <see cref="Dispose"/>.
/// </summary>
public sealed class FeatureSet : IDisposable
{
    /// <summary>
    /// Takes ownership of <paramref name="features"/> [N, D] and <paramref name="labels"/> [N]: they are
    /// converted to float32 / int64 on the CPU (the originals are disposed when a copy was needed) and
    /// checked: matching N, finite features, every label in [0, <paramref name="numClasses"/>).
    /// <paramref name="name"/> names the set in error messages ("train", "test").
    /// </summary>
    public FeatureSet(Tensor features, Tensor labels, int numClasses, string name = "features")
    {
        Name = name;
        if (numClasses < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"{name}: the class count must be at least 1");
        if (features.dim() != 2)
            throw new ArgumentException($"{name}: features must be [N, D], got [{string.Join(", ", features.shape)}]", nameof(features));
        if (labels.dim() != 1 || labels.shape[0] != features.shape[0])
            throw new ArgumentException(
                $"{name}: labels must be [N] with N = {features.shape[0]} (the feature rows), got [{string.Join(", ", labels.shape)}]", nameof(labels));
        Features = Own(features, ScalarType.Float32);
        Labels = Own(labels, ScalarType.Int64);
        NumClasses = numClasses;
        Validate();
    }

    /// <summary>The set's name in error messages.</summary>
    public string Name { get; }

    /// <summary>Features, float32 [N, D] on the CPU.</summary>
    public Tensor Features { get; }

    /// <summary>Class labels, int64 [N] on the CPU, each in [0, <see cref="NumClasses"/>).</summary>
    public Tensor Labels { get; }

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Number of samples N.</summary>
    public long Count => Features.shape[0];

    /// <summary>Feature dimension D.</summary>
    public long Dim => Features.shape[1];

    /// <summary>The labels as a managed array (a copy).</summary>
    public long[] LabelArray() => Labels.data<long>().ToArray();

    /// <summary>The features as a row-major managed array [N·D] (a copy).</summary>
    public float[] FeatureArray() => Features.data<float>().ToArray();

    /// <summary>A new set of the rows <paramref name="rows"/> (in that order), owning copies of them.</summary>
    public FeatureSet Subset(IReadOnlyList<long> rows, string name)
    {
        using var scope = NewDisposeScope();
        var index = tensor(rows.ToArray(), ScalarType.Int64);
        return new FeatureSet(Features.index_select(0, index).DetachFromDisposeScope(),
            Labels.index_select(0, index).DetachFromDisposeScope(), NumClasses, name);
    }

    /// <summary>Disposes the two tensors.</summary>
    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }

    private static Tensor Own(Tensor t, ScalarType type)
    {
        if (t.dtype == type && t.device_type == DeviceType.CPU && t.is_contiguous())
            return t.DetachFromDisposeScope();
        var copy = t.to(type, CPU).contiguous().DetachFromDisposeScope();
        if (!ReferenceEquals(copy, t))
            t.Dispose();
        return copy;
    }

    private void Validate()
    {
        using var scope = NewDisposeScope();
        if (Count > 0 && !Features.isfinite().all().item<bool>())
            throw new ArgumentException($"{Name}: the features hold NaN or infinite values");
        if (Count > 0)
        {
            long min = Labels.min().item<long>(), max = Labels.max().item<long>();
            if (min < 0 || max >= NumClasses)
                throw new ArgumentException($"{Name}: labels must lie in [0, {NumClasses}), found {(min < 0 ? min : max)}");
        }
    }
}
