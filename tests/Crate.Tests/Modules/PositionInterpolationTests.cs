using System.Text.Json;
using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>
/// The position table at another patch grid against DINO's <c>interpolate_pos_encoding</c> run in PyTorch
/// (tools/fixtures/make_pos_interp_fixture.py → Fixtures/pos_interp.json), and the vision models on crops of
/// another size than their configured one.
/// </summary>
public class PositionInterpolationTests
{
    private static JsonElement Fixture()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pos_interp.json")));
        return doc.RootElement.Clone();
    }

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    public void ResizeMatchesDinosBicubicInterpolation(int grid)
    {
        var root = Fixture();
        int tokens = root.GetProperty("tokens").GetInt32(), dim = root.GetProperty("dim").GetInt32();
        using var table = tensor(Floats(root.GetProperty("table")), [1, tokens, dim]);
        var expected = Floats(root.GetProperty("resized").GetProperty(grid.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        using var resized = PositionInterpolation.Resize(table, grid, grid);
        Assert.Equal(new long[] { 1, grid * grid + 1, dim }, resized.shape);
        var actual = resized.data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"grid {grid}, value {i}: expected {expected[i]}, got {actual[i]}");
        if (grid == 4) Assert.Same(table, resized);                       // its own grid: the table itself
    }

    [Fact]
    public void BadTablesAreRejectedNamingTheShape()
    {
        using var notSquare = zeros(1, 1 + 12, 4);
        Assert.Contains("not a square grid", Assert.Throws<ArgumentException>(() => PositionInterpolation.Resize(notSquare, 2, 2)).Message);
        using var flat = zeros(17, 4);
        Assert.Contains("[17, 4]", Assert.Throws<ArgumentException>(() => PositionInterpolation.Resize(flat, 2, 2)).Message);
    }

    [Fact]
    public void VisionModelsTakeCropsOfAnySizeAndTrainOneTable()
    {
        manual_seed(5);
        using var crate = new CrateClassifier(new CrateConfig(16, 1, 2, 28, 7, 1, 10));
        using var vit = new VisionTransformer(new VitConfig(16, 1, 2, 28, 7, 1, 10));
        foreach (var model in new nn.Module<Tensor, Tensor>[] { crate, vit })
        {
            using var scope = NewDisposeScope();
            var logits = model.forward(randn(3, 1, 14, 14));              // a 2x2 grid of a 4x4 table
            Assert.Equal(new long[] { 3, 10 }, logits.shape);
            logits.sum().backward();
            var table = model.named_parameters().Single(p => p.name is "pos_embedding" or "pos_embed").parameter;
            Assert.NotNull(table.grad);
            Assert.True(table.grad!.abs().sum().ToDouble() > 0, "the position table gets a gradient through the resize");
        }

        // At the configured size the table is added as it is: the Embed output minus the patch tokens is the table.
        using var noGrad = no_grad();
        var z = crate.Embed(zeros(1, 1, 28, 28));
        Assert.Equal(new long[] { 1, 17, 16 }, z.shape);
    }
}
