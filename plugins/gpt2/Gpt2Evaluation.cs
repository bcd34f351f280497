using Crate.Core.Data.Text;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using Crate.Core.Contract;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Gpt2;

/// <summary>What a gpt2 run measures on its validation split: the mean next-token loss and the white-box rows of CRATE-GPT.</summary>
public static class Gpt2Evaluation
{
    /// <summary>
    /// Token-weighted mean next-token cross-entropy (nats/token) of <paramref name="model"/> over consecutive
    /// non-overlapping windows of <paramref name="file"/> from its start (<see cref="TokenBatches.Sequential"/>),
    /// at most <paramref name="maxBatches"/> batches (0: the whole file). Call under <c>no_grad</c> in eval mode.
    /// </summary>
    public static double MeanLoss(nn.Module<Tensor, Tensor> model, TokenFile file, int batchSize, int blockSize, int maxBatches,
        Device device, CancellationToken cancellation = default)
    {
        double sum = 0;
        long tokens = 0;
        foreach (var batch in TokenBatches.Sequential(file, batchSize, blockSize, maxBatches > 0 ? maxBatches : null))
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (x, y) = batch.ToTensors(device);                          // [B, T], [B, T]
            long count = (long)batch.BatchSize * batch.BlockSize;
            sum += Gpt2Data.ModelLoss(model, x, y).ToDouble() * count;
            tokens += count;
        }
        return sum / tokens;
    }

    /// <summary>
    /// docs/paper.md §4 on CRATE-GPT: Z¹ = wte + wpe of the first <paramref name="sequences"/> validation
    /// windows (fewer if the file is shorter), then per block R^c of U·LN₁(Z^ℓ), R and the (non-)zero fraction
    /// of the ISTA output, all T tokens of each window (the blocks are causal, the measures are not).
    /// </summary>
    public static IReadOnlyList<WhiteBoxRow> MeasureWhiteBox(CrateGptModel model, TokenFile val, int sequences, int blockSize, Device device)
    {
        var batch = TokenBatches.Sequential(val, sequences, blockSize, maxBatches: 1).First();
        using var evalMode = EvalMode.Of(model);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, _) = batch.ToTensors(device);                                        // [B, T]
        return WhiteBoxProbe.Measure(model.Layers.Cast<ICrateLayer>().ToList(), model.Embed(x), "val");
    }
}
