using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>Global gradient norm and clipping, as <c>torch.nn.utils.clip_grad_norm_</c> does it.</summary>
public static class GradientNorm
{
    /// <summary>
    /// The L2 norm of all gradients taken together, ‖(‖g₁‖, …, ‖gₙ‖)‖₂. When <paramref name="maxNorm"/> &gt; 0 and
    /// the norm exceeds it, every gradient is scaled by <c>maxNorm / (norm + 1e-6)</c>. Returns the norm before
    /// clipping (NaN or ∞ when a gradient is not finite; nothing is scaled then).
    /// </summary>
    public static double ClipAndMeasure(IEnumerable<Parameter> parameters, double maxNorm)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var grads = parameters.Select(p => p.grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        var norms = stack(grads.Select(g => linalg.vector_norm(g, 2)).ToArray());   // [n]
        double total = linalg.vector_norm(norms, 2).ToDouble();
        if (maxNorm > 0 && double.IsFinite(total) && total > maxNorm)
        {
            double coefficient = maxNorm / (total + 1e-6);
            foreach (var g in grads) g.mul_(coefficient);
        }
        return total;
    }
}
