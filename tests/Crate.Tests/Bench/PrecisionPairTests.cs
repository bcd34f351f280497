using Crate.Bench;
using Crate.Core.Training;

namespace Crate.Tests.Bench;

/// <summary>The bench's fp32-against-bf16 summary: measured speed-up and the products-only estimate.</summary>
public sealed class PrecisionPairTests
{
    private static BenchRow Row(string model, string precision, double ms, double gflopPerStep, double? gemmGflops) =>
        new("vit", model, "test", precision, 1, 128, 128, 3, 10, ms, ms, ms, 128 / (ms / 1e3), gflopPerStep, gflopPerStep / (ms / 1e3),
            new GemmShape("test", 6400, 192, 192), gemmGflops, null, 100, 100, 100, 0, null, 10, 10, 1.0);

    [Fact]
    public void Products_at_the_reference_rate_give_the_products_only_speed_up()
    {
        // fp32: 200 ms, 30 GFLOP at 300 GFLOP/s = 100 ms of products; bf16 products at 600 GFLOP/s = 50 ms,
        // so a step that sped up only its products: 200 / (200 - 100 + 50) = 1.333x.
        var rows = new[] { Row("crate", "fp32", 200, 30, 300), Row("crate", "bf16", 160, 30, 600), Row("vit", "fp32", 100, 10, null) };
        var pair = Assert.Single(PrecisionPair.Of(rows));
        Assert.Equal(("vit", "crate"), (pair.Task, pair.Model));
        Assert.Equal(100, rows[0].GemmMs!.Value, 9);
        Assert.Equal(50, rows[1].GemmMs!.Value, 9);
        Assert.Equal(1.25, pair.SpeedUp, 9);
        Assert.Equal(200.0 / 150.0, pair.ProductsOnlySpeedUp!.Value, 9);
    }

    [Fact]
    public void Without_matmul_references_there_is_no_estimate()
    {
        var pair = Assert.Single(PrecisionPair.Of([Row("crate", "fp32", 200, 30, null), Row("crate", "bf16", 100, 30, null)]));
        Assert.Equal(2.0, pair.SpeedUp, 9);
        Assert.Null(pair.ProductsOnlySpeedUp);
    }
}
