using Crate.Core.Modules;
using Crate.Tests.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Mae;

/// <summary>The masked-autoencoder modules of Crate.Core: masking, counts, the sine-cosine table, the classifier.</summary>
public class MaeModuleTests
{
    [Fact]
    public void MaskKeepsTheLowestNoisePatchesAndRestoresTheOrder()
    {
        using var scope = NewDisposeScope();
        // One sample, 4 patches: noise order 2 < 0 < 3 < 1, keep int(4 · 0.5) = 2 → patches 2 and 0 kept.
        var noise = tensor(new float[] { 0.3f, 0.9f, 0.1f, 0.5f }, [1, 4]);
        using var mask = MaeMask.FromNoise(noise, MaeMask.KeepFor(4, 0.5));
        Assert.Equal(new long[] { 2, 0 }, mask.Keep.data<long>().ToArray());
        Assert.Equal(new float[] { 0, 1, 0, 1 }, mask.Mask.data<float>().ToArray());
        Assert.Equal(new long[] { 1, 3, 0, 2 }, mask.Restore.data<long>().ToArray());   // shuffled position of each patch
    }

    [Theory]
    [InlineData(196, 0.75, 49)]
    [InlineData(16, 0.75, 4)]
    [InlineData(10, 0.75, 2)]      // int(10 · 0.25) = int(2.5) = 2
    [InlineData(16, 0.0, 16)]
    public void KeepCountIsTheReferencesTruncation(int patches, double ratio, int keep) =>
        Assert.Equal(keep, MaeMask.KeepFor(patches, ratio));

    [Fact]
    public void SinCosTableHasAZeroClsRowAndTheHandComputedEntries()
    {
        using var scope = NewDisposeScope();
        var table = SinCosPositions.Table2D(8, 2);                      // [1, 5, 8]; quarter = 2, ω = 1, 1/100
        Assert.Equal(new long[] { 1, 5, 8 }, table.shape);
        Assert.All(table[0, 0].data<float>().ToArray(), v => Assert.Equal(0f, v));
        // token 2 = row 0, column 1: [sin 1, sin .01, cos 1, cos .01 | sin 0, sin 0, cos 0, cos 0]
        var expected = new[] { Math.Sin(1), Math.Sin(0.01), Math.Cos(1), Math.Cos(0.01), 0, 0, 1, 1 };
        var actual = table[0, 2].data<float>().ToArray();
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], actual[i], 6);
    }

    [Theory]
    [InlineData(MaeKind.Crate, 576, 12, 12, 576, 12, 12, 25_405_824)]     // CRATE-MAE-S, paper 25.4M (§3c)
    [InlineData(MaeKind.Crate, 768, 12, 12, 768, 12, 12, 44_638_464)]     // CRATE-MAE-B, paper 44.6M
    [InlineData(MaeKind.Vit, 384, 12, 6, 512, 8, 16, 47_578_240)]        // ViT-MAE-S, paper 47.6M
    [InlineData(MaeKind.Vit, 768, 12, 12, 768, 8, 16, 143_836_416)]      // ViT-MAE-B, paper 143.8M
    public void CountsOfTheNamedConfigsMatchThePaper(MaeKind kind, int d, int depth, int heads, int dd, int decDepth, int decHeads, long count) =>
        Assert.Equal(count, new MaeConfig(kind, d, depth, heads, dd, decDepth, decHeads).ParameterCount());

    [Fact]
    public void FormulaCountsEqualTheBuiltModules()
    {
        foreach (var config in new[] { MaeParityTests.CrateFixture, MaeParityTests.VitFixture })
        {
            using var model = config.Kind == MaeKind.Crate ? (nn.Module)new CrateMae(config) : new MaeVit(config);
            Assert.Equal(config.ParameterCount(everyTensor: true), model.state_dict().Values.Sum(t => t.numel()));
            long frozenOrUnused = model.named_parameters()
                .Where(p => !p.parameter.requires_grad || (config.Kind == MaeKind.Crate && p.name.StartsWith("decoder_embed.", StringComparison.Ordinal)))
                .Sum(p => p.parameter.numel());
            Assert.Equal(config.ParameterCount(everyTensor: false), model.state_dict().Values.Sum(t => t.numel()) - frozenOrUnused);
        }
    }

    [Fact]
    public void ClassifierSharesTheEncoderAndNamesItsParametersAsMaesFineTuning()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var mae = new CrateMae(MaeParityTests.CrateFixture);
        var classifier = new MaeClassifier(mae, 5);
        var names = classifier.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("cls_token", names);
        Assert.Contains("pos_embed", names);
        Assert.Contains("blocks.1.layers.0.1.fn.weight", names);
        Assert.Contains("head.weight", names);
        Assert.DoesNotContain(names, n => n.StartsWith("decoder", StringComparison.Ordinal));
        Assert.Same(mae.cls_token, classifier.named_parameters().Single(p => p.name == "cls_token").parameter);
        Assert.Equal(0, MaeClassifier.LayerOf("patch_embed.proj.weight", 2));
        Assert.Equal(2, MaeClassifier.LayerOf("blocks.1.layers.0.1.fn.weight", 2));
        Assert.Equal(3, MaeClassifier.LayerOf("head.bias", 2));
        var images = randn(3, 3, 8, 8);
        using var noGrad = no_grad();
        mae.eval();
        var logits = classifier.forward(images);
        Assert.Equal(new long[] { 3, 5 }, logits.shape);
        TensorAssert.Close(classifier.head.forward(mae.Encode(images).select(1, 0)), logits, 0);
        classifier.DisposeHead();
    }

    [Fact]
    public void UnmaskedPassThroughTheMaskedPathEqualsTheEncoder()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        foreach (var config in new[] { MaeParityTests.CrateFixture, MaeParityTests.VitFixture })
        {
            using var model = config.Kind == MaeKind.Crate ? (nn.Module)new CrateMae(config) : new MaeVit(config);
            var mae = (IMaskedAutoencoder)model;
            var images = randn(2, 3, 8, 8);
            using var none = MaeMask.None(2, config.NumPatches, CPU);
            using var noGrad = no_grad();
            TensorAssert.Close(mae.Encode(images), mae.EncodeMasked(images, none), 1e-5);
        }
    }

    [Theory]
    [InlineData(MaeKind.Crate, 16, 2, 12, 2, 28, 7, "DecoderDim")]   // CRATE-MAE decoder must keep the encoder width
    [InlineData(MaeKind.Vit, 16, 3, 8, 2, 28, 7, "Heads")]           // 3 heads do not divide 16
    [InlineData(MaeKind.Vit, 16, 2, 8, 3, 28, 7, "DecoderHeads")]
    [InlineData(MaeKind.Vit, 16, 2, 8, 2, 28, 5, "PatchSize")]       // 5 does not divide 28
    [InlineData(MaeKind.Vit, 18, 2, 8, 2, 28, 7, "Dim")]             // the sine-cosine table needs d % 4 == 0
    public void ConfigsTheReferenceWouldRefuseAreRejected(MaeKind kind, int d, int heads, int dd, int decHeads, int image, int patch, string param)
    {
        var e = Assert.Throws<ArgumentException>(() => new MaeConfig(kind, d, 1, heads, dd, 1, decHeads, image, patch, 1).Validate());
        Assert.Equal(param, e.ParamName);
    }
}
