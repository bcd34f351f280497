using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>Initialisation and counting helpers shared by the modules.</summary>
public static class ModuleInit
{
    /// <summary>Every Linear in <paramref name="module"/>: weight N(0, <paramref name="std"/>), bias 0 (HF / nanoGPT style).</summary>
    public static void NormalLinears(nn.Module module, double std)
    {
        using var _ = no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            if (child is Linear linear)
            {
                nn.init.normal_(linear.weight!, 0.0, std);
                if (linear.bias is not null)
                    nn.init.zeros_(linear.bias);
            }
        }
    }

    /// <summary>
    /// Truncated normal N(<paramref name="mean"/>, <paramref name="std"/>²) restricted to [a, b], in place, by
    /// the inverse-CDF method PyTorch uses. TorchSharp 0.107's <c>nn.init.trunc_normal_</c> fills the
    /// tensor with the constant <paramref name="std"/> instead, so it is not used.
    /// </summary>
    public static Tensor TruncNormal(Tensor tensor, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0)
    {
        static double Cdf(double x) => 0.5 * (1.0 + Erf(x / Math.Sqrt(2.0)));
        double lo = Cdf((a - mean) / std), hi = Cdf((b - mean) / std);
        using var _ = no_grad();
        tensor.uniform_(2 * lo - 1, 2 * hi - 1);
        tensor.erfinv_();
        tensor.mul_(std * Math.Sqrt(2.0)).add_(mean);
        return tensor.clamp_(a, b);
    }

    // erf from the Numerical Recipes erfc approximation (|error| < 1.2e-7); it only sets the sampling interval.
    private static double Erf(double x)
    {
        double t = 1.0 / (1.0 + 0.5 * Math.Abs(x));
        double y = 1.0 - t * Math.Exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
            + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
            + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? y : -y;
    }

    /// <summary>Number of distinct parameter elements (a tensor reachable under two names counts once).</summary>
    public static long CountParameters(nn.Module module)
    {
        var seen = new HashSet<IntPtr>();
        long total = 0;
        foreach (var parameter in module.parameters())
            if (seen.Add(parameter.Handle))
                total += parameter.numel();
        return total;
    }
}
