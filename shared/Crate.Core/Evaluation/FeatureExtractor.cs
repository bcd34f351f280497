using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>
/// Features of a frozen encoder over a labelled set: every batch goes through the encoder without
/// gradients (the model, if given, in eval mode for the call and restored afterwards), is pooled to
/// [B, D] and copied to the CPU as float32; one dispose scope per batch (getter included).
/// </summary>
public static class FeatureExtractor
{
    /// <summary>
    /// Runs <paramref name="encoder"/> (inputs → tokens [B, n, D] or already pooled [B, D]) on every batch
    /// of <paramref name="batches"/> and pools tokens with <paramref name="pooling"/>. <paramref name="model"/>
    /// (optional) is put in eval() for the call and its training flag restored.
    /// </summary>
    public static FeatureSet Extract(Func<Tensor, Tensor> encoder, IEnumerable<ProbeBatch> batches, int numClasses,
        Pooling pooling = Pooling.Cls, nn.Module? model = null, string name = "features") =>
        Extract((inputs, _) => encoder(inputs), batches, numClasses, pooling, model, name);

    /// <summary>
    /// As <see cref="Extract(Func{Tensor, Tensor}, IEnumerable{ProbeBatch}, int, Pooling, nn.Module?, string)"/>
    /// for an encoder that also takes the batch's key-padding mask (inputs, mask or null) → tokens.
    /// </summary>
    public static FeatureSet Extract(Func<Tensor, Tensor?, Tensor> encoder, IEnumerable<ProbeBatch> batches, int numClasses,
        Pooling pooling = Pooling.Cls, nn.Module? model = null, string name = "features")
    {
        bool wasTraining = model?.training ?? false;
        model?.eval();
        var features = new List<Tensor>();
        var labels = new List<Tensor>();
        try
        {
            using var noGrad = no_grad();
            using var e = batches.GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!e.MoveNext())
                    break;
                var batch = e.Current;
                var pooled = Pool(encoder(batch.Inputs, batch.PaddingMask), pooling, batch.PaddingMask);    // [B, D]
                if (batch.Labels.dim() != 1 || batch.Labels.shape[0] != pooled.shape[0])
                    throw new ArgumentException(
                        $"{name}: batch {features.Count} has {pooled.shape[0]} feature rows but labels [{string.Join(", ", batch.Labels.shape)}]");
                features.Add(pooled.to(ScalarType.Float32, CPU).contiguous().DetachFromDisposeScope());
                labels.Add(batch.Labels.to(ScalarType.Int64, CPU).contiguous().DetachFromDisposeScope());
            }
            if (features.Count == 0)
                throw new ArgumentException($"{name}: the batch source yielded no batches");
            return new FeatureSet(cat(features, 0), cat(labels, 0), numClasses, name);     // [N, D], [N]
        }
        finally
        {
            foreach (var t in features.Concat(labels))
                t.Dispose();
            if (model is not null && wasTraining)
                model.train();
        }
    }

    /// <summary>
    /// As <see cref="Extract(Func{Tensor, Tensor}, IEnumerable{ProbeBatch}, int, Pooling, nn.Module?, string)"/>
    /// with batches 0..<paramref name="batchCount"/>−1 from <paramref name="getBatch"/>.
    /// </summary>
    public static FeatureSet Extract(Func<Tensor, Tensor> encoder, long batchCount, Func<long, ProbeBatch> getBatch, int numClasses,
        Pooling pooling = Pooling.Cls, nn.Module? model = null, string name = "features") =>
        Extract(encoder, Batches(batchCount, getBatch), numClasses, pooling, model, name);

    /// <summary>
    /// Pools <paramref name="encoded"/> [B, n, D] to [B, D]: token 0 for <see cref="Pooling.Cls"/>; for
    /// <see cref="Pooling.Mean"/> the mean over the tokens that <paramref name="paddingMask"/> [B, n]
    /// (true / non-zero = padding) does not mark. A [B, D] input is returned as it is (already pooled).
    /// </summary>
    public static Tensor Pool(Tensor encoded, Pooling pooling, Tensor? paddingMask = null)
    {
        if (encoded.dim() == 2)
            return encoded;
        if (encoded.dim() != 3)
            throw new ArgumentException($"the encoder output must be [B, n, D] or [B, D], got [{string.Join(", ", encoded.shape)}]");
        if (pooling == Pooling.Cls)
            return encoded.select(1, 0);                                                   // [B, D]
        if (paddingMask is null)
            return encoded.mean([1]);                                                      // [B, D]
        using var scope = NewDisposeScope();
        if (paddingMask.dim() != 2 || paddingMask.shape[0] != encoded.shape[0] || paddingMask.shape[1] != encoded.shape[1])
            throw new ArgumentException(
                $"the padding mask must be [B, n] = [{encoded.shape[0]}, {encoded.shape[1]}], got [{string.Join(", ", paddingMask.shape)}]");
        var keep = paddingMask.to(encoded.device).ne(0).logical_not().to(encoded.dtype).unsqueeze(-1);   // [B, n, 1]
        var count = keep.sum(1);                                                           // [B, 1]
        if (count.eq(0).any().item<bool>())
            throw new ArgumentException("a sample's padding mask marks every token as padding; there is nothing to average");
        return ((encoded * keep).sum(1) / count).MoveToOuterDisposeScope();                // [B, D]
    }

    private static IEnumerable<ProbeBatch> Batches(long count, Func<long, ProbeBatch> getBatch)
    {
        for (long i = 0; i < count; i++)
            yield return getBatch(i);
    }
}
