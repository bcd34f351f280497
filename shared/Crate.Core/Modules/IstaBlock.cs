using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The ISTA sparsification block (crate-paper.md §1.1 step 2, §1.2, pitfall 6.1): one proximal-gradient
/// step on min_{Z≥0} λ‖Z‖₁ + ½‖Y − D Z‖², warm-started at Z = Y with a square dictionary D:
/// column form z = ReLU(y + η·Dᵀ(y − D y) − η·λ), row form (tokens as rows, as computed here)
/// Z = ReLU(Y + η·(Y·D − Y·Dᵀ·D) − η·λ). No residual. State_dict: <c>weight</c> = D [d, d].
/// </summary>
public sealed class IstaBlock : nn.Module<Tensor, Tensor>
{
    /// <summary>The dictionary D [d, d]; kaiming-uniform with a = 0, i.e. U(±√(6/d)).</summary>
    public readonly Parameter weight;

    /// <summary>Step size η (reference default 0.1).</summary>
    public double Eta { get; }

    /// <summary>Sparsity weight λ (reference: 0.1, hard-coded there).</summary>
    public double Lambda { get; }

    /// <summary>Use the one-product fast path (same function; see <see cref="Step"/>).</summary>
    public bool Fast { get; set; }

    /// <summary>An ISTA block over <paramref name="dim"/> features.</summary>
    public IstaBlock(long dim, double eta = 0.1, double lambda = 0.1, bool fast = true) : base(nameof(IstaBlock))
    {
        weight = new Parameter(empty(dim, dim));
        using (no_grad())
            nn.init.kaiming_uniform_(weight);   // a = 0, fan_in, leaky_relu gain √2 → U(±√(6/d))
        Eta = eta;
        Lambda = lambda;
        Fast = fast;
        RegisterComponents();
    }

    /// <summary>Y [..., d] (already layer-normed) → ReLU(Y + η(Y·D − Y·Dᵀ·D) − ηλ) [..., d].</summary>
    public override Tensor forward(Tensor y) => Step(y, weight, Eta, Lambda, Fast);

    /// <summary>
    /// The ISTA step in row form. <paramref name="fast"/>: one product with the per-call matrix
    /// M = I + η(D − DᵀD), i.e. ReLU(Y·M − ηλ), which equals the three-product form exactly in
    /// exact arithmetic (d³ extra FLOPs per call instead of two extra [B·n, d]×[d, d] products).
    /// </summary>
    public static Tensor Step(Tensor y, Tensor d, double eta, double lambda, bool fast = true)
    {
        using var scope = NewDisposeScope();
        Tensor result;
        if (fast)
        {
            var m = eye(d.shape[0], dtype: d.dtype, device: d.device) + eta * (d - d.t().matmul(d));   // [d, d]
            result = nn.functional.relu(matmul(y, m) - eta * lambda);
        }
        else
        {
            var yd = matmul(y, d);                        // Y·D      [..., d]
            var ydtd = matmul(matmul(y, d.t()), d);       // Y·Dᵀ·D   [..., d]
            result = nn.functional.relu(y + eta * (yd - ydtd) - eta * lambda);
        }
        return result.MoveToOuterDisposeScope();
    }
}
