using Crate.Core.Modules;

namespace Crate.Bench;

/// <summary>
/// Analytic matmul FLOPs of one training step (2 FLOPs per multiply-add; backward counted as twice the
/// forward, so a step is 3× the forward). Element-wise work (LayerNorm, softmax, GELU, ReLU, AdamW)
/// is not counted, so the achieved rate is a lower bound on the work done.
/// </summary>
internal static class ModelFlops
{
    /// <summary>CRATE forward matmul FLOPs for a batch; <paramref name="fast"/> selects the one-product ISTA.</summary>
    public static double CrateForward(CrateConfig c, int batch, bool fast)
    {
        double n = c.NumPatches + 1, d = c.Dim, inner = (double)c.Heads * c.HeadDim;
        double stem = 2 * c.NumPatches * (double)c.PatchDim * d;
        double mssa = 2 * n * d * inner          // U·x
                      + 2 * n * n * inner        // W_k W_kᵀ over the K heads
                      + 2 * n * n * inner        // A_k W_k
                      + 2 * n * inner * d;       // output map
        double ista = fast ? 2 * n * d * d : 3 * 2 * n * d * d;   // Y·M, or Y·D, Y·Dᵀ, (·)·D
        double perBatchIsta = fast ? 2 * d * d * d : 0;            // M = I + η(D − DᵀD) once per call
        double head = 2 * d * c.NumClasses;
        return batch * (stem + c.Depth * (mssa + ista) + head) + c.Depth * perBatchIsta;
    }

    /// <summary>ViT forward matmul FLOPs for a batch.</summary>
    public static double VitForward(VitConfig c, int batch)
    {
        double n = c.NumPatches + 1, d = c.Dim, h = c.MlpHidden;
        double stem = 2 * c.NumPatches * (double)c.Channels * c.PatchSize * c.PatchSize * d;
        double block = 2 * n * d * 3 * d + 4 * n * n * d + 2 * n * d * d + 2 * 2 * n * d * h;
        double head = 2 * d * c.NumClasses;
        return batch * (stem + c.Depth * block + head);
    }
}
