namespace Crate.Core.Evaluation;

/// <summary>
/// Settings of <see cref="Lbfgs"/>: converged when the largest gradient component |∇f|∞ is at most
/// <see cref="GradientTolerance"/>; otherwise it stops after <see cref="MaxIterations"/> iterations
/// (or when the line search finds no decrease) and reports not converged.
/// </summary>
public sealed record LbfgsOptions(double GradientTolerance = 1e-6, int MaxIterations = 1000, int History = 10);

/// <summary>Outcome of <see cref="Lbfgs.Minimize"/>.</summary>
public sealed record LbfgsResult(double[] X, double Value, double GradientInfNorm, int Iterations, int Evaluations, bool Converged);

/// <summary>
/// Limited-memory BFGS (Nocedal and Wright, Algorithm 7.4: two-loop recursion, initial Hessian
/// γ = sᵀy / yᵀy) in float64 over a flat parameter vector, with a backtracking Armijo line search
/// (c₁ = 10⁻⁴, halving, first trial step 1, or 1/‖g‖₂ on the first iteration). Pairs with too little
/// curvature (sᵀy ≤ 10⁻¹⁰·‖s‖·‖y‖) are skipped. Fully deterministic for a deterministic objective.
/// </summary>
public static class Lbfgs
{
    private const double ArmijoC1 = 1e-4;
    private const int MaxBacktracks = 60;

    /// <summary>Minimises <paramref name="objective"/> (x → value, gradient) from <paramref name="x0"/> (not modified).</summary>
    public static LbfgsResult Minimize(Func<double[], (double Value, double[] Gradient)> objective, double[] x0, LbfgsOptions? options = null)
    {
        options ??= new LbfgsOptions();
        int n = x0.Length, evaluations = 1;
        var x = (double[])x0.Clone();
        var (f, g) = objective(x);
        var s = new List<double[]>();
        var y = new List<double[]>();
        var rho = new List<double>();
        for (int iter = 0; ; iter++)
        {
            double gInf = g.Max(Math.Abs);
            if (!double.IsFinite(f) || !double.IsFinite(gInf))
                throw new InvalidOperationException($"L-BFGS: the objective is not finite (value {f}, |g|∞ {gInf}) at iteration {iter}");
            if (gInf <= options.GradientTolerance)
                return new LbfgsResult(x, f, gInf, iter, evaluations, true);
            if (iter >= options.MaxIterations)
                return new LbfgsResult(x, f, gInf, iter, evaluations, false);

            var d = Direction(g, s, y, rho);
            double slope = Dot(g, d);
            if (slope >= 0)
            {
                // Not a descent direction (cannot happen with positive-curvature pairs; guard anyway): restart.
                s.Clear(); y.Clear(); rho.Clear();
                d = g.Select(v => -v).ToArray();
                slope = Dot(g, d);
            }
            double step = iter == 0 ? Math.Min(1.0, 1.0 / Math.Sqrt(Dot(g, g))) : 1.0;
            double[] xNew = new double[n], gNew;
            double fNew;
            int backtracks = 0;
            while (true)
            {
                for (int i = 0; i < n; i++)
                    xNew[i] = x[i] + step * d[i];
                (fNew, gNew) = objective(xNew);
                evaluations++;
                if (double.IsFinite(fNew) && fNew <= f + ArmijoC1 * step * slope)
                    break;
                if (++backtracks > MaxBacktracks)
                    return new LbfgsResult(x, f, gInf, iter, evaluations, false);      // no decrease found
                step *= 0.5;
            }

            var sk = new double[n];
            var yk = new double[n];
            for (int i = 0; i < n; i++)
            {
                sk[i] = xNew[i] - x[i];
                yk[i] = gNew[i] - g[i];
            }
            double sy = Dot(sk, yk);
            if (sy > 1e-10 * Math.Sqrt(Dot(sk, sk) * Dot(yk, yk)))
            {
                if (s.Count == options.History)
                {
                    s.RemoveAt(0); y.RemoveAt(0); rho.RemoveAt(0);
                }
                s.Add(sk); y.Add(yk); rho.Add(1.0 / sy);
            }
            (x, f, g) = (xNew, fNew, gNew);
        }
    }

    /// <summary>d = −H·g by the two-loop recursion over the stored pairs (oldest first).</summary>
    private static double[] Direction(double[] g, List<double[]> s, List<double[]> y, List<double> rho)
    {
        int m = s.Count;
        var q = (double[])g.Clone();
        var alpha = new double[m];
        for (int j = m - 1; j >= 0; j--)
        {
            alpha[j] = rho[j] * Dot(s[j], q);
            Axpy(-alpha[j], y[j], q);
        }
        double gamma = m > 0 ? Dot(s[m - 1], y[m - 1]) / Dot(y[m - 1], y[m - 1]) : 1.0;
        for (int i = 0; i < q.Length; i++)
            q[i] *= gamma;
        for (int j = 0; j < m; j++)
        {
            double beta = rho[j] * Dot(y[j], q);
            Axpy(alpha[j] - beta, s[j], q);
        }
        for (int i = 0; i < q.Length; i++)
            q[i] = -q[i];
        return q;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < x.Length; i++)
            y[i] += a * x[i];
    }
}
