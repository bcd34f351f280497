using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Crate.Core.Training;

/// <summary>Loss helpers shared by the tasks.</summary>
public static class Losses
{
    /// <summary>
    /// Cross-entropy with label smoothing ε, as timm's <c>LabelSmoothingCrossEntropy</c> (docs/paper.md §3a,
    /// pitfall 11) and PyTorch's <c>label_smoothing</c>: per sample
    /// <c>(1 − ε)·(−log p_y) + ε·mean_k(−log p_k)</c>, averaged over the samples whose target is not
    /// <paramref name="ignoreIndex"/> (nanoGPT-style LM targets use −1).
    /// </summary>
    /// <param name="logits">[N, C] or [..., C] scores.</param>
    /// <param name="target">[N] or [...] class indices (int64).</param>
    /// <param name="smoothing">ε in [0, 1); 0 gives plain cross-entropy.</param>
    /// <param name="ignoreIndex">Target value that contributes nothing.</param>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, double smoothing = 0, long ignoreIndex = -100)
    {
        if (smoothing < 0 || smoothing >= 1) throw new ArgumentOutOfRangeException(nameof(smoothing), smoothing, "label smoothing must be in [0, 1)");
        using var scope = NewDisposeScope();
        long classes = logits.shape[^1];
        var flatLogits = logits.reshape(-1, classes);                                    // [N, C]
        var flatTarget = target.reshape(-1);                                             // [N]
        var logp = F.log_softmax(flatLogits, -1);                                        // [N, C]
        var valid = flatTarget.ne(ignoreIndex);                                          // [N]
        var safeTarget = where(valid, flatTarget, zeros_like(flatTarget));               // [N]
        var nll = -logp.gather(-1, safeTarget.unsqueeze(-1)).squeeze(-1);                // [N]
        var perSample = smoothing == 0 ? nll : (1 - smoothing) * nll - smoothing * logp.mean([-1L]);   // [N]
        var weight = valid.to(perSample.dtype);                                          // [N]
        return ((perSample * weight).sum() / weight.sum()).MoveToOuterDisposeScope();
    }
}
