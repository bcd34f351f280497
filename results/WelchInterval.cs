namespace Crate.Results;

/// <summary>A 95 % confidence interval of a difference (<see cref="WelchInterval"/>, <see cref="PairedInterval"/>).</summary>
public interface IInterval
{
    /// <summary>Lower bound.</summary>
    double Low { get; }

    /// <summary>Upper bound.</summary>
    double High { get; }
}

/// <summary>
/// A 95 % confidence interval for the difference of two means (CRATE − baseline) over seeds, by Welch's t:
/// Δ ± t<sub>0.975, ν</sub> · √(s₁²/n₁ + s₂²/n₂) with the Welch–Satterthwaite degrees of freedom
/// ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1)). It needs two seeds on each side: with one,
/// a side's spread is unknown and no interval exists (<see cref="Of"/> returns null).
/// </summary>
public sealed record WelchInterval(double Low, double High, double DegreesOfFreedom) : IInterval
{
    /// <summary>The interval for <paramref name="crate"/> − <paramref name="baseline"/>, or null when either side has fewer than two seeds.</summary>
    public static WelchInterval? Of(Aggregate crate, Aggregate baseline)
    {
        if (crate.N < 2 || baseline.N < 2 || crate.Std is not { } s1 || baseline.Std is not { } s2)
            return null;
        double a = s1 * s1 / crate.N, b = s2 * s2 / baseline.N;
        double difference = crate.Mean - baseline.Mean;
        if (a + b == 0)
            return new WelchInterval(difference, difference, double.PositiveInfinity);     // no spread on either side
        double df = (a + b) * (a + b) / (a * a / (crate.N - 1) + b * b / (baseline.N - 1));
        double half = StudentT.Quantile(0.975, df) * Math.Sqrt(a + b);
        return new WelchInterval(difference - half, difference + half, df);
    }
}

/// <summary>
/// A 95 % confidence interval for the mean of paired differences (treated − control of the same run, one per seed):
/// mean ± t<sub>0.975, n−1</sub> · s / √n. It needs two pairs (<see cref="Of"/> returns null with fewer).
/// </summary>
public sealed record PairedInterval(double Low, double High, int DegreesOfFreedom) : IInterval
{
    /// <summary>The interval of the mean of <paramref name="differences"/>, or null below two.</summary>
    public static PairedInterval? Of(IReadOnlyList<double> differences)
    {
        if (differences.Count < 2) return null;
        var aggregate = Aggregate.Of(differences)!;
        double half = StudentT.Quantile(0.975, differences.Count - 1) * aggregate.Std!.Value / Math.Sqrt(differences.Count);
        return new PairedInterval(aggregate.Mean - half, aggregate.Mean + half, differences.Count - 1);
    }

    /// <summary>Whether the interval excludes 0 (the difference is beyond seed noise at this level).</summary>
    public bool ExcludesZero => Low > 0 || High < 0;
}

/// <summary>Student's t distribution for real degrees of freedom: its CDF through the regularised incomplete beta function, and the quantile by bisection.</summary>
public static class StudentT
{
    /// <summary>P(T ≤ <paramref name="t"/>) for ν = <paramref name="df"/> &gt; 0 (finite) degrees of freedom.</summary>
    public static double Cdf(double t, double df)
    {
        double x = df / (df + t * t);
        double tail = 0.5 * RegularizedBeta(x, df / 2, 0.5);          // P(T > |t|)
        return t >= 0 ? 1 - tail : tail;
    }

    /// <summary>The t with P(T ≤ t) = <paramref name="p"/> (0 &lt; p &lt; 1), to about 1e-12.</summary>
    public static double Quantile(double p, double df)
    {
        if (p is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "must be in (0, 1)");
        if (df <= 0 || double.IsNaN(df)) throw new ArgumentOutOfRangeException(nameof(df), df, "degrees of freedom must be positive");
        double lo = -1, hi = 1;
        while (Cdf(lo, df) > p) lo *= 2;
        while (Cdf(hi, df) < p) hi *= 2;
        for (int i = 0; i < 200 && hi - lo > 1e-13 * Math.Max(1, Math.Abs(hi)); i++)
        {
            double mid = 0.5 * (lo + hi);
            if (Cdf(mid, df) < p) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    /// <summary>I_x(a, b), by the continued fraction (modified Lentz), using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) for convergence.</summary>
    private static double RegularizedBeta(double x, double a, double b)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaFraction(x, a, b) / a
            : 1 - front * BetaFraction(1 - x, b, a) / b;
    }

    private static double BetaFraction(double x, double a, double b)
    {
        const double Tiny = 1e-300;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        d = 1 / (Math.Abs(d) < Tiny ? Tiny : d);
        double h = d;
        for (int m = 1; m <= 1000; m++)
        {
            double m2 = 2 * m;
            double even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + even * d; d = 1 / (Math.Abs(d) < Tiny ? Tiny : d);
            c = 1 + even / c; if (Math.Abs(c) < Tiny) c = Tiny;
            h *= d * c;
            double odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + odd * d; d = 1 / (Math.Abs(d) < Tiny ? Tiny : d);
            c = 1 + odd / c; if (Math.Abs(c) < Tiny) c = Tiny;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-15) break;
        }
        return h;
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, 9 terms; relative error below 1e-14).</summary>
    private static double LogGamma(double x)
    {
        double[] c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        x -= 1;
        double sum = c[0];
        for (int i = 1; i < c.Length; i++) sum += c[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
