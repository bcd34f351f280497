namespace Crate.Results.Tests;

/// <summary>Student's t quantiles against the printed table, and Welch's interval against a hand-worked case.</summary>
public class WelchIntervalTests
{
    [Theory]
    [InlineData(1, 12.7062047)]
    [InlineData(2, 4.30265273)]
    [InlineData(4, 2.77644511)]
    [InlineData(10, 2.22813885)]
    [InlineData(30, 2.04227246)]
    [InlineData(1000, 1.96233908)]
    public void T_quantiles_match_the_table(double df, double expected) =>
        Assert.Equal(expected, StudentT.Quantile(0.975, df), 6);

    [Fact]
    public void Welch_interval_of_two_three_seed_samples()
    {
        // CRATE 88.00 / 88.15 / 88.40, ViT 86.60 / 87.05 / 86.35 (the vit README's seeds).
        // Means 88.1833 and 86.6667; variances 0.040833 and 0.125833; a = 0.013611, b = 0.041944;
        // ν = (a + b)² / (a²/2 + b²/2) = 3.0865 / 0.9724 · … = 3.1754; t(0.975, 3.1754) = 3.0757 (table interpolation 3.08);
        // half-width = t · √(a + b) = 3.0757 · 0.23570 = 0.7249.
        var crate = Aggregate.Of([88.00, 88.15, 88.40])!;
        var vit = Aggregate.Of([86.60, 87.05, 86.35])!;
        var ci = WelchInterval.Of(crate, vit)!;
        double a = 0.040833333333 / 3, b = 0.125833333333 / 3;
        double df = (a + b) * (a + b) / (a * a / 2 + b * b / 2);
        Assert.Equal(df, ci.DegreesOfFreedom, 6);
        double half = StudentT.Quantile(0.975, df) * Math.Sqrt(a + b);
        Assert.Equal(1.516667 - half, ci.Low, 5);
        Assert.Equal(1.516667 + half, ci.High, 5);
        Assert.InRange(half, 0.70, 0.75);
        Assert.True(ci.Low > 0, "CRATE's lead in the vit README is more than seed noise");
    }

    [Fact]
    public void One_seed_on_either_side_has_no_interval()
    {
        Assert.Null(WelchInterval.Of(Aggregate.Of([1.0])!, Aggregate.Of([2.0, 3.0])!));
        Assert.Null(WelchInterval.Of(Aggregate.Of([1.0, 2.0])!, Aggregate.Of([2.0])!));
        var flat = WelchInterval.Of(Aggregate.Of([1.0, 1.0])!, Aggregate.Of([2.0, 2.0])!)!;
        Assert.Equal((-1.0, -1.0), (flat.Low, flat.High));
    }
}
