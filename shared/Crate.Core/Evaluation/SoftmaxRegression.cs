using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>
/// Multinomial logistic regression on standardised features, fitted full-batch with <see cref="Lbfgs"/>
/// in float64. Features are standardised with the training set's per-column mean and population
/// standard deviation (floored at <see cref="StdFloor"/>), z = (x − μ) / σ; the model minimises
/// <c>L(W, b) = (1/N) Σᵢ −log softmax(W zᵢ + b)[yᵢ] + (λ/2)‖W‖²_F</c> (bias not penalised). With λ &gt; 0
/// the weights are unique; the bias is unique up to a common shift of all classes (which changes no
/// prediction), so compare <see cref="CenteredBias"/> across solvers.
/// </summary>
public sealed class SoftmaxRegression
{
    /// <summary>Floor of the per-column standard deviation (constant columns become 0 after centring).</summary>
    public const double StdFloor = 1e-6;

    private SoftmaxRegression(int classes, int dim, double[] mean, double[] std, double l2, double[] theta, LbfgsResult fit)
    {
        Classes = classes;
        Dim = dim;
        Mean = mean;
        Std = std;
        L2 = l2;
        Weights = theta[..(classes * dim)];
        Bias = theta[(classes * dim)..];
        Loss = fit.Value;
        GradientInfNorm = fit.GradientInfNorm;
        Iterations = fit.Iterations;
        Converged = fit.Converged;
    }

    /// <summary>Number of classes C.</summary>
    public int Classes { get; }

    /// <summary>Feature dimension D.</summary>
    public int Dim { get; }

    /// <summary>Per-column training mean μ [D].</summary>
    public double[] Mean { get; }

    /// <summary>Per-column training standard deviation σ [D] (population, floored at <see cref="StdFloor"/>).</summary>
    public double[] Std { get; }

    /// <summary>The L2 strength λ.</summary>
    public double L2 { get; }

    /// <summary>Weights W on the standardised features, row-major [C, D] (class c, column j at c·D + j).</summary>
    public double[] Weights { get; }

    /// <summary>Bias b [C] as the solver left it.</summary>
    public double[] Bias { get; }

    /// <summary>The bias shifted to mean zero over the classes (the unique representative).</summary>
    public double[] CenteredBias => Bias.Select(v => v - Bias.Average()).ToArray();

    /// <summary>Objective L(W, b) at the solution (mean cross-entropy + penalty).</summary>
    public double Loss { get; }

    /// <summary>|∇L|∞ at the solution.</summary>
    public double GradientInfNorm { get; }

    /// <summary>L-BFGS iterations used.</summary>
    public int Iterations { get; }

    /// <summary>Whether |∇L|∞ reached the tolerance within the iteration limit.</summary>
    public bool Converged { get; }

    /// <summary>
    /// Fits the model to <paramref name="train"/> with strength <paramref name="l2"/>, starting from
    /// zero or from <paramref name="warmStart"/>'s parameters (same C and D; the optimum does not depend
    /// on the start, only the iteration count does).
    /// </summary>
    public static SoftmaxRegression Fit(FeatureSet train, double l2, LbfgsOptions? options = null, SoftmaxRegression? warmStart = null)
    {
        if (!(l2 >= 0) || double.IsInfinity(l2))
            throw new ArgumentOutOfRangeException(nameof(l2), l2, "the L2 strength must be finite and non-negative");
        if (train.Count == 0)
            throw new ArgumentException($"linear probe: {train.Name} is empty");
        int c = train.NumClasses, d = (int)train.Dim;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = train.Features.to(ScalarType.Float64);                                          // [N, D]
        var meanT = x.mean([0]);                                                                // [D]
        var stdT = (x - meanT).square().mean([0]).sqrt().clamp_min(StdFloor);                  // [D]
        var z = ((x - meanT) / stdT).contiguous();                                              // [N, D]
        var oneHot = nn.functional.one_hot(train.Labels, c).to(ScalarType.Float64);           // [N, C]
        double invN = 1.0 / train.Count;

        (double, double[]) Objective(double[] theta)
        {
            using var inner = NewDisposeScope();
            var w = tensor(theta[..(c * d)], ScalarType.Float64).view(c, d);                   // [C, D]
            var b = tensor(theta[(c * d)..], ScalarType.Float64);                               // [C]
            var logits = z.mm(w.t()) + b;                                                       // [N, C]
            var logProb = logits.log_softmax(1);                                                // [N, C]
            double loss = -(logProb * oneHot).sum().item<double>() * invN + 0.5 * l2 * w.square().sum().item<double>();
            var gLogits = (logProb.exp() - oneHot) * invN;                                      // [N, C]
            var gW = gLogits.t().mm(z) + l2 * w;                                                // [C, D]
            var gB = gLogits.sum([0L]);                                                          // [C]
            return (loss, cat([gW.flatten(), gB]).data<double>().ToArray());
        }

        var start = warmStart is not null && warmStart.Classes == c && warmStart.Dim == d
            ? [.. warmStart.Weights, .. warmStart.Bias]
            : new double[c * d + c];
        var fit = Lbfgs.Minimize(Objective, start, options);
        return new SoftmaxRegression(c, d, meanT.data<double>().ToArray(), stdT.data<double>().ToArray(), l2, fit.X, fit);
    }

    /// <summary>Class logits of <paramref name="set"/>, float64 [N, C] (a new tensor, owned by the caller's scope).</summary>
    public Tensor Logits(FeatureSet set)
    {
        if (set.Dim != Dim)
            throw new ArgumentException($"linear probe: the model has D = {Dim} but {set.Name} has D = {set.Dim}");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z = (set.Features.to(ScalarType.Float64) - tensor(Mean, ScalarType.Float64)) / tensor(Std, ScalarType.Float64);   // [N, D]
        var w = tensor(Weights, ScalarType.Float64).view(Classes, Dim);                                                       // [C, D]
        return (z.mm(w.t()) + tensor(Bias, ScalarType.Float64)).MoveToOuterDisposeScope();                                  // [N, C]
    }

    /// <summary>Predicted class of every row of <paramref name="set"/> (argmax; ties to the lower class index).</summary>
    public long[] Predict(FeatureSet set)
    {
        using var scope = NewDisposeScope();
        var logits = Logits(set).data<double>().ToArray();
        var predictions = new long[set.Count];
        for (long i = 0; i < set.Count; i++)
        {
            int best = 0;
            for (int k = 1; k < Classes; k++)
                if (logits[i * Classes + k] > logits[i * Classes + best])
                    best = k;
            predictions[i] = best;
        }
        return predictions;
    }

    /// <summary>Top-1 accuracy in % on <paramref name="set"/>.</summary>
    public double Accuracy(FeatureSet set)
    {
        var predicted = Predict(set);
        var labels = set.LabelArray();
        return set.Count == 0 ? 0.0 : 100.0 * predicted.Where((p, i) => p == labels[i]).Count() / set.Count;
    }
}
