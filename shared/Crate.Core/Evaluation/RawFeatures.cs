using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>
/// Feature sets of the raw inputs, the baseline that shows what representation learning added:
/// flattened pixels for images (bag-of-tokens for text is <see cref="BagOfTokens"/>).
/// </summary>
public static class RawFeatures
{
    /// <summary>Flattened pixels: images [N, C, H, W] (any [N, …]) → features [N, C·H·W], float32 on the CPU.</summary>
    public static FeatureSet Pixels(Tensor images, Tensor labels, int numClasses, string name = "raw pixels")
    {
        using var scope = NewDisposeScope();
        // Copies, never views of the caller's tensors (the set owns its storage).
        var flat = images.flatten(1).to(ScalarType.Float32, CPU).clone().DetachFromDisposeScope();   // [N, C·H·W]
        var ownLabels = labels.to(ScalarType.Int64, CPU).clone().DetachFromDisposeScope();           // [N]
        return new FeatureSet(flat, ownLabels, numClasses, name);
    }

    /// <summary>Flattened pixels of every batch of <paramref name="batches"/> (one dispose scope per batch).</summary>
    public static FeatureSet Pixels(IEnumerable<ProbeBatch> batches, int numClasses, string name = "raw pixels") =>
        FeatureExtractor.Extract(x => x.flatten(1), batches, numClasses, Pooling.Cls, null, name);
}
