using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>
/// Cross-entropy of a linear head, <c>cross_entropy(linear(hidden, weight), target)</c>, computed over chunks of
/// tokens so that the [tokens, V] logits never exist at once, in the forward or the backward pass. With a large
/// vocabulary and a small model (gpt2's <c>small</c> preset: V = 50,304, d = 128) the head's logits are by far
/// the largest tensor of a step; here only a [chunk, V] block is alive at a time.
/// <para>
/// When a gradient is needed, each chunk's gradients are computed right after its loss (softmax − one-hot,
/// times the weight and times the hidden states), so the step does the same three matmuls as the unchunked
/// head and recomputes nothing; the summed gradients are handed to autograd by a custom function
/// (<see cref="autograd.SingleTensorFunction{T}"/>). The loss and the gradients equal those of the unchunked
/// head up to float rounding (another summation order); they are computed in float32 (float64 for float64
/// inputs) and returned in the dtypes of <c>hidden</c> and <c>weight</c>. A tied head (the weight is also the
/// token embedding) receives both gradients as usual. Double backward is not supported.
/// </para>
/// </summary>
public static class ChunkedCrossEntropy
{
    /// <summary>
    /// Mean cross-entropy of <c>hidden · weightᵀ</c> against <paramref name="target"/> over the targets that are
    /// not <paramref name="ignoreIndex"/> (as <c>cross_entropy(..., ignore_index)</c> with mean reduction;
    /// NaN when every target is ignored).
    /// </summary>
    /// <param name="hidden">[..., d] hidden states (the head's input).</param>
    /// <param name="weight">[V, d] head weight (no bias).</param>
    /// <param name="target">[...] class indices (int64), the leading shape of <paramref name="hidden"/>.</param>
    /// <param name="chunkTokens">Tokens per chunk (≥ 1); the largest block alive is [chunkTokens, V] in float32.</param>
    /// <param name="ignoreIndex">Target value that contributes nothing (nanoGPT uses −1).</param>
    /// <param name="computeType">Type of the three matmuls (bfloat16 under <see cref="Precision.Bf16"/>); null: the
    /// accumulation type. The log-softmax, the loss and the gradient sums stay in the accumulation type.</param>
    public static Tensor Loss(Tensor hidden, Tensor weight, Tensor target, int chunkTokens, long ignoreIndex = -100,
        ScalarType? computeType = null)
    {
        if (chunkTokens < 1) throw new ArgumentOutOfRangeException(nameof(chunkTokens), chunkTokens, "a chunk holds at least one token");
        if (weight.dim() != 2 || hidden.shape[^1] != weight.shape[1])
            throw new ArgumentException($"hidden [{string.Join(", ", hidden.shape)}] and head weight [{string.Join(", ", weight.shape)}] do not fit: need [..., d] and [V, d]");
        if (hidden.numel() / hidden.shape[^1] != target.numel())
            throw new ArgumentException($"{target.numel()} targets for {hidden.numel() / hidden.shape[^1]} hidden states");
        using var scope = NewDisposeScope();
        var flatHidden = hidden.reshape(-1, hidden.shape[^1]);                                   // [N, d]
        var flatTarget = target.reshape(-1);                                                     // [N]
        bool needsGrad = is_grad_enabled() && (hidden.requires_grad || weight.requires_grad);
        var loss = needsGrad
            ? HeadLossFunction.apply(flatHidden, weight, flatTarget, chunkTokens, ignoreIndex, computeType is { } type ? type : false)     // false: no compute type (apply takes objects)
            : Compute(flatHidden, weight, flatTarget, chunkTokens, ignoreIndex, computeType, withGrad: false).Loss;
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>The loss and, with <paramref name="withGrad"/>, its gradients with respect to hidden [N, d] and weight [V, d].</summary>
    private static (Tensor Loss, Tensor? GradHidden, Tensor? GradWeight) Compute(Tensor hidden, Tensor weight, Tensor target,
        int chunkTokens, long ignoreIndex, ScalarType? computeType, bool withGrad)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long n = hidden.shape[0];
        var dtype = hidden.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var w = weight.to(dtype);                                                                // [V, d]
        var mm = computeType ?? dtype;                                                           // the matmuls' type
        var wMm = w.to(mm);                                                                      // [V, d]
        var valid = target.ne(ignoreIndex);                                                      // [N]
        var count = valid.sum().to(dtype);                                                       // []
        var lossSum = zeros([], dtype, hidden.device);
        Tensor? gradHidden = withGrad ? zeros([n, w.shape[1]], dtype, hidden.device) : null;     // [N, d]
        Tensor? gradWeight = withGrad ? zeros_like(w) : null;                                    // [V, d]
        for (long start = 0; start < n; start += chunkTokens)
        {
            using var chunkScope = NewDisposeScope();
            long length = Math.Min(chunkTokens, n - start);
            var h = hidden.narrow(0, start, length).to(dtype);                                   // [C, d]
            var y = target.narrow(0, start, length);                                             // [C]
            var keep = valid.narrow(0, start, length).to(dtype).unsqueeze(1);                    // [C, 1]
            var safeY = where(y.ne(ignoreIndex), y, zeros_like(y)).unsqueeze(1);                 // [C, 1]
            var hMm = h.to(mm);                                                                  // [C, d]
            var logp = hMm.matmul(wMm.t()).to(dtype).log_softmax(1);                             // [C, V]
            lossSum.sub_((logp.gather(1, safeY) * keep).sum());
            if (!withGrad) continue;
            var dLogits = logp.exp_();                                                           // [C, V] softmax, in place
            dLogits.scatter_add_(1, safeY, -keep);                                               // softmax − one-hot (ignored rows: masked below)
            var dMm = dLogits.to(mm);                                                            // [C, V]
            gradHidden!.narrow(0, start, length).copy_(dMm.matmul(wMm).to(dtype).mul_(keep));    // [C, d]
            if (mm == dtype)
                gradWeight!.addmm_(dLogits.t(), h * keep);                                       // [V, d] += [V, C]·[C, d]
            else
                gradWeight!.add_(dMm.t().matmul((hMm * keep.to(mm))).to(dtype));                 // [V, d] += [V, C]·[C, d]
        }
        var loss = (lossSum / count).to(hidden.dtype).MoveToOuterDisposeScope();
        if (!withGrad) return (loss, null, null);
        return (loss, gradHidden!.div_(count).to(hidden.dtype).MoveToOuterDisposeScope(),
            gradWeight!.div_(count).to(weight.dtype).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The autograd node: inputs (hidden [N, d], weight [V, d], target [N], chunk, ignore index); the forward pass
    /// computes the loss and both gradients chunk by chunk, the backward pass scales the saved gradients by the
    /// incoming scalar gradient.
    /// </summary>
    private sealed class HeadLossFunction : autograd.SingleTensorFunction<HeadLossFunction>
    {
        public override string Name => nameof(HeadLossFunction);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (hidden, weight, target) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2]);
            var (loss, gradHidden, gradWeight) = Compute(hidden, weight, target, (int)vars[3], (long)vars[4], vars[5] is ScalarType t ? t : null, withGrad: true);
            ctx.save_for_backward([gradHidden!, gradWeight!]);
            return loss;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var saved = ctx.get_saved_variables();
            return [saved[0] * gradOutput, saved[1] * gradOutput, null!, null!, null!, null!];          // one entry per input of apply, null: no gradient
        }
    }
}
