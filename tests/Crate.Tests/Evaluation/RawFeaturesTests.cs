using Crate.Core.Evaluation;
using Crate.Tests.Modules;
using static TorchSharp.torch;

namespace Crate.Tests.Evaluation;

/// <summary>Raw-input feature sets: flattened pixels and bag of tokens.</summary>
public class RawFeaturesTests
{
    [Fact]
    public void PixelsAreFlattenedPerImage()
    {
        using var scope = NewDisposeScope();
        var images = arange(2 * 3 * 2 * 2, ScalarType.Float32).view(2, 3, 2, 2);             // [N, C, H, W]
        using var set = RawFeatures.Pixels(images, tensor(new long[] { 1, 0 }), 2);
        Assert.Equal([2L, 12L], set.Features.shape);
        TensorAssert.Values([.. Enumerable.Range(0, 24).Select(i => (double)i)], set.Features, 0);
        images.add_(1);                                                                       // the set holds a copy
        Assert.Equal(0f, set.Features[0, 0].item<float>());
    }

    [Fact]
    public void BagOfTokensUsesTrainingColumnsAndLogCounts()
    {
        // Training documents; 0 is [PAD] (ignored). Document frequencies: 5 → 2, 7 → 2, 9 → 1, 3 → 1.
        IReadOnlyList<int>[] train = [[5, 5, 7, 0, 0], [7, 9, 5], [3]];
        var bag = BagOfTokens.Fit(train, minDocumentFrequency: 1, ignoredIds: [0]);
        Assert.Equal([3, 5, 7, 9], bag.TokenIds);
        // Test document: 5 three times, 7 once, 11 (unseen in training) dropped.
        using var set = bag.Transform([[5, 5, 5, 7, 11]], [1], 2);
        TensorAssert.Values([0, Math.Log(4), Math.Log(2), 0], set.Features, 1e-7);

        var frequent = BagOfTokens.Fit(train, minDocumentFrequency: 2, ignoredIds: [0]);
        Assert.Equal([5, 7], frequent.TokenIds);
        var capped = BagOfTokens.Fit(train, maxFeatures: 3, ignoredIds: [0]);             // df 2, 2, then 1-ties → lower id 3
        Assert.Equal([3, 5, 7], capped.TokenIds);
    }

    [Fact]
    public void DocumentsLeaveOutPadding()
    {
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 101, 5, 102, 0, 101, 7, 8, 102 }).view(2, 4);
        var mask = tensor(new[] { false, false, false, true, false, false, false, false }).view(2, 4);
        var docs = BagOfTokens.Documents(ids, mask);
        Assert.Equal([101, 5, 102], docs[0]);
        Assert.Equal([101, 7, 8, 102], docs[1]);
    }
}
