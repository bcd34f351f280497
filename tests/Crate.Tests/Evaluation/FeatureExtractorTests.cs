using Crate.Core.Evaluation;
using Crate.Tests.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Evaluation;

/// <summary>Pooling and frozen-encoder feature extraction.</summary>
public class FeatureExtractorTests
{
    // Tokens [2, 3, 2]: sample 0 = (1, 2), (3, 4), (100, 100); sample 1 = (5, 6), (100, 100), (100, 100).
    private static Tensor Tokens() => tensor(new float[] { 1, 2, 3, 4, 100, 100, 5, 6, 100, 100, 100, 100 }).view(2, 3, 2);

    [Fact]
    public void MeanPoolingLeavesOutPadding()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new[] { false, false, true, false, true, true }).view(2, 3);     // true = padding
        // Sample 0: mean of (1, 2), (3, 4) = (2, 3); sample 1: only (5, 6).
        TensorAssert.Values([2, 3, 5, 6], FeatureExtractor.Pool(Tokens(), Pooling.Mean, mask), 0);
        var intMask = tensor(new long[] { 0, 0, 1, 0, 1, 1 }).view(2, 3);                  // the same as 0/1
        TensorAssert.Values([2, 3, 5, 6], FeatureExtractor.Pool(Tokens(), Pooling.Mean, intMask), 0);
    }

    [Fact]
    public void MeanWithoutMaskAndClsPooling()
    {
        using var scope = NewDisposeScope();
        // Sample 0: ((1 + 3 + 100) / 3, (2 + 4 + 100) / 3); sample 1: ((5 + 200) / 3, (6 + 200) / 3).
        TensorAssert.Values([104.0 / 3, 106.0 / 3, 205.0 / 3, 206.0 / 3], FeatureExtractor.Pool(Tokens(), Pooling.Mean), 1e-5);
        TensorAssert.Values([1, 2, 5, 6], FeatureExtractor.Pool(Tokens(), Pooling.Cls), 0);
    }

    [Fact]
    public void AllPaddingRowIsRejected()
    {
        using var scope = NewDisposeScope();
        var mask = tensor(new[] { false, false, true, true, true, true }).view(2, 3);
        Assert.Throws<ArgumentException>(() => FeatureExtractor.Pool(Tokens(), Pooling.Mean, mask));
    }

    [Fact]
    public void ExtractsPooledFeaturesInEvalModeAndRestoresTraining()
    {
        using var model = nn.Linear(2, 2);
        model.train();
        var seenTraining = new List<bool>();
        var seenGrad = new List<bool>();
        Tensor Encoder(Tensor x, Tensor? mask)
        {
            seenTraining.Add(model.training);
            seenGrad.Add(is_grad_enabled());
            return x * 10;                                                                   // [B, n, 2] tokens
        }
        // Two batches of tokens [1, 3, 2] with masks; mean pooling leaves out padding.
        var batches = new[]
        {
            (Tokens: new float[] { 1, 2, 3, 4, 9, 9 }, Mask: new[] { false, false, true }, Label: 1L),
            (Tokens: new float[] { 5, 6, 9, 9, 9, 9 }, Mask: new[] { false, true, true }, Label: 0L),
        }.Select(b => new ProbeBatch(tensor(b.Tokens).view(1, 3, 2), tensor(new[] { b.Label }), tensor(b.Mask).view(1, 3)));

        using var set = FeatureExtractor.Extract(Encoder, batches, numClasses: 2, Pooling.Mean, model, "train");
        TensorAssert.Values([20, 30, 50, 60], set.Features, 1e-5);
        Assert.Equal([1L, 0L], set.LabelArray());
        Assert.Equal(ScalarType.Float32, set.Features.dtype);
        Assert.Equal([false, false], seenTraining);
        Assert.Equal([false, false], seenGrad);
        Assert.True(model.training);
    }

    [Fact]
    public void BatchGetterAndPooledEncoderOutput()
    {
        using var model = nn.Linear(3, 2);
        model.eval();
        // Inputs [2, 3] per batch; the encoder returns already pooled [B, 2] features.
        ProbeBatch Batch(long i) => new(full(2, 3, (float)i + 1), tensor(new long[] { i, i }));
        using var set = FeatureExtractor.Extract(x => x.sum(1, keepdim: true).expand(-1, 2), 3, Batch, numClasses: 3, model: model);
        Assert.Equal([6L, 2L], set.Features.shape);
        TensorAssert.Values([3, 3, 3, 3, 6, 6, 6, 6, 9, 9, 9, 9], set.Features, 0);
        Assert.Equal([0L, 0L, 1L, 1L, 2L, 2L], set.LabelArray());
        Assert.False(model.training);
    }

    [Fact]
    public void LabelsOutsideTheClassesAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            FeatureExtractor.Extract(x => x, [new ProbeBatch(zeros(1, 2), tensor(new long[] { 3 }))], numClasses: 3, name: "val"));
        Assert.Contains("val", e.Message);
    }
}
