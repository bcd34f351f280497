using static TorchSharp.torch;

namespace Crate.Core.Data.Images;

/// <summary>
/// One micro-batch of an <see cref="ImageBatchSource"/>: <see cref="Views"/> holds one normalised float
/// tensor per view, <c>[B, C, H_v, W_v]</c> (views may differ in size: DINO's 2 global crops of 224 and
/// N local crops of 96; a supervised or MAE run has one view), and <see cref="Labels"/> the class labels
/// <c>[B]</c> (int64). The tensors belong to the dispose scope the batch was created in.
/// </summary>
public sealed record ViewBatch(IReadOnlyList<Tensor> Views, Tensor Labels)
{
    /// <summary>The first (for a single-view source, the only) view, <c>[B, C, H, W]</c>.</summary>
    public Tensor Images => Views[0];

    /// <summary>Samples in the batch.</summary>
    public int Count => (int)Labels.shape[0];
}
