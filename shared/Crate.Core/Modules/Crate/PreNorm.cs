using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// A LayerNorm and the sub-block it feeds, as the reference's <c>PreNorm(dim, fn)</c> wrapper
/// (state_dict names <c>norm.*</c> and <c>fn.*</c>). It is a container only: the owning layer
/// calls <c>fn</c> on <c>norm(x)</c> itself, so that it can pass masks and keep the residual outside.
/// </summary>
public sealed class PreNorm<T> : nn.Module where T : nn.Module
{
    /// <summary>The pre-norm (LayerNorm, PyTorch default eps 1e-5 unless given).</summary>
    public readonly LayerNorm norm;

    /// <summary>The wrapped sub-block.</summary>
    public readonly T fn;

    /// <summary>Wraps <paramref name="fn"/> behind a LayerNorm over <paramref name="dim"/> features.</summary>
    public PreNorm(long dim, T fn, double eps = 1e-5) : base(nameof(PreNorm<T>))
    {
        norm = nn.LayerNorm(dim, eps);
        this.fn = fn;
        RegisterComponents();
    }
}
