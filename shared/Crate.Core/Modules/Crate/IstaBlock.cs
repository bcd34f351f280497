using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The ISTA sparsification block, step 2 of a CRATE layer (docs/paper.md §1.1, the equation "ista-block";
/// the sign as §6.1 warns): one proximal-gradient step on min_{Z≥0} λ‖Z‖₁ + ½‖Y − D Z‖², warm-started at
/// Z = Y with a square dictionary D,
/// <code>
///   column form:  z = ReLU(y − η·Dᵀ(D y − y) − η·λ)
///   row form:     Z = ReLU(Y + η·(Y·D − Y·Dᵀ·D) − η·λ)     (tokens as rows, as computed here)
/// </code>
/// No residual (§6.4). State_dict: <c>weight</c> = D [d, d]. <see cref="Step"/> computes the row form as
/// written (the plain path) or through one product with I + η(D − DᵀD) (the fast path, §8.1).
/// </summary>
public sealed class IstaBlock : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>The dictionary D [d, d]; kaiming-uniform with a = 0, i.e. U(±√(6/d)).</summary>
    public readonly Parameter weight;

    /// <summary>Step size η (reference default 0.1).</summary>
    public double Eta { get; }

    /// <summary>Sparsity weight λ (reference: 0.1, hard-coded there).</summary>
    public double Lambda { get; }

    /// <summary>Use the one-product fast path (same function; see <see cref="Step"/>).</summary>
    public bool Fast { get; set; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

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
    public override Tensor forward(Tensor y) => Step(y, weight, Eta, Lambda, Fast, ComputeType);

    /// <summary>
    /// The ISTA step in row form, ReLU(Y + η(Y·D − Y·Dᵀ·D) − ηλ) (docs/paper.md §1.1). <paramref name="fast"/>:
    /// the same function through one product, ReLU(Y·M − ηλ) with M = I + η(D − DᵀD) formed per call (an exact
    /// identity, docs/paper.md §8.1: d³ work instead of two extra [B·n, d]×[d, d] products; tested equal in
    /// value and gradient by <c>IstaTests.FastPathEqualsPlainFormulaWithGradients</c>). <paramref name="computeType"/>:
    /// the products' type (<see cref="MixedPrecision"/>; M itself is formed in float32); the result is float32.
    /// </summary>
    public static Tensor Step(Tensor y, Tensor d, double eta, double lambda, bool fast = true, ScalarType? computeType = null)
    {
        using var scope = NewDisposeScope();
        var result = fast ? FusedStep(y, d, eta, lambda, computeType) : PlainStep(y, d, eta, lambda, computeType);
        return MixedPrecision.Out(result, computeType).MoveToOuterDisposeScope();
    }

    /// <summary>The paper's formula as written: ReLU(Y + η(Y·D − Y·Dᵀ·D) − ηλ).</summary>
    private static Tensor PlainStep(Tensor y, Tensor d, double eta, double lambda, ScalarType? type)
    {
        var yd = MixedPrecision.MatMul(y, d, type);                                            // Y·D      [..., d]
        var ydtd = MixedPrecision.MatMul(MixedPrecision.MatMul(y, d.t(), type), d, type);      // Y·Dᵀ·D   [..., d]
        return nn.functional.relu(y + eta * (yd - ydtd) - eta * lambda);
    }

    /// <summary>The tested optimisation: ReLU(Y·(I + η(D − DᵀD)) − ηλ), one [B·n, d]×[d, d] product.</summary>
    private static Tensor FusedStep(Tensor y, Tensor d, double eta, double lambda, ScalarType? type) =>
        nn.functional.relu(MixedPrecision.MatMul(y, StepMatrix(d, eta), type) - eta * lambda);     // [..., d]

    /// <summary>The fast path's matrix M = I + η(D − DᵀD) [d, d], in the type of <paramref name="d"/>.</summary>
    public static Tensor StepMatrix(Tensor d, double eta)
    {
        using var scope = NewDisposeScope();
        return (eye(d.shape[0], dtype: d.dtype, device: d.device) + eta * (d - d.t().matmul(d))).MoveToOuterDisposeScope();   // M [d, d]
    }
}
