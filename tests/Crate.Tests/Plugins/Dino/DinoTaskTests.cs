using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Plugins.Dino;
using static Crate.Tests.Plugins.Dino.DinoTestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Dino;

/// <summary>Metadata, presets, model names and shapes, and bad input of the dino task.</summary>
public class DinoTaskTests
{
    [Theory]
    [InlineData("smoke")]
    [InlineData("small")]
    [InlineData("paper")]
    public void EveryPresetResolvesForBothModelsWithOneSharedRecipe(string preset)
    {
        var crate = Config(preset, "crate");
        var vit = Config(preset, "vit");
        foreach (var key in TheTask.Schema.Keys.Where(k => !k.Name.StartsWith("model.", StringComparison.Ordinal)))
            Assert.Equal(crate.Values[key.Name], vit.Values[key.Name]);                        // data, crops, head, recipe: shared
        var crateShape = DinoShape.From(crate, "crate");
        var vitShape = DinoShape.From(vit, "vit");
        Assert.Equal(crateShape.OutDim, vitShape.OutDim);
        var options = DinoRecipe.Options(crate);
        Assert.Equal(crate.Get(DinoKeys.BaseLr) * options.BatchSize / 256.0, options.LearningRate, 12);
        Assert.Equal(0.4, options.WeightDecayEnd);
        if (preset == "paper")
        {
            Assert.Equal((576, 12, 12), (crateShape.Dim, crateShape.Depth, crateShape.Heads));  // CRATE-S
            Assert.Equal((384, 12, 6), (vitShape.Dim, vitShape.Depth, vitShape.Heads));        // ViT-S
            Assert.Equal(2e-3, options.LearningRate, 12);                                       // 5e-4 x 1024 / 256
            Assert.Equal((65536, 10, 224, 96), (crateShape.OutDim, crate.GetInt(DinoKeys.LocalCrops), crate.GetInt(DinoKeys.GlobalSize), crate.GetInt(DinoKeys.LocalSize)));
            Assert.Equal(16, options.Accumulation);
        }
    }

    [Fact]
    public void NetworksCarryDinosStateDictNamesAndAFixedPrototypeNorm()
    {
        var shape = DinoShape.From(Config("smoke", "vit"), "vit");
        manual_seed(1);
        using var network = shape.Build("vit");
        var names = network.state_dict().Keys.ToHashSet();
        foreach (var name in new[] { "backbone.cls_token", "backbone.pos_embed", "backbone.patch_embed.proj.weight", "backbone.blocks.1.attn.qkv.weight",
                     "backbone.norm.weight", "head.mlp.0.weight", "head.mlp.2.weight", "head.mlp.4.weight", "head.last_layer.weight_g", "head.last_layer.weight_v" })
            Assert.Contains(name, names);
        Assert.DoesNotContain(names, n => n.StartsWith("backbone.head", StringComparison.Ordinal));
        Assert.False(network.Head.LastLayer.WeightG.requires_grad);
        Assert.Equal(new long[] { 64, 1 }, network.Head.LastLayer.WeightG.shape);
        Assert.Equal(1f, network.Head.LastLayer.WeightG.max().ToSingle());

        using var crate = DinoShape.From(Config("smoke", "crate"), "crate").Build("crate");
        var crateNames = crate.state_dict().Keys.ToHashSet();
        foreach (var name in new[] { "backbone.to_patch_embedding.2.weight", "backbone.pos_embedding", "backbone.cls_token", "backbone.mlp_head.0.weight" })
            Assert.Contains(name, crateNames);
        Assert.Contains(crateNames, n => n.StartsWith("backbone.transformer.layers.1.", StringComparison.Ordinal));
        Assert.DoesNotContain(crateNames, n => n.StartsWith("backbone.mlp_head.1", StringComparison.Ordinal));
    }

    [Fact]
    public void MultiCropForwardIsCropMajorAndEqualsOneCropAtATime()
    {
        var shape = DinoShape.From(Config("smoke", "crate"), "crate");
        manual_seed(2);
        using var network = shape.Build("crate");
        network.eval();
        using var noGrad = no_grad();
        Tensor[] crops = [randn(3, 1, 28, 28), randn(3, 1, 28, 28), randn(3, 1, 14, 14), randn(3, 1, 14, 14)];
        var all = network.Forward(crops);                                                       // [4·3, K]
        Assert.Equal(new long[] { 12, 64 }, all.shape);
        for (int v = 0; v < crops.Length; v++)
        {
            var alone = network.Forward([crops[v]]);                                            // [3, K]
            Assert.True(allclose(all.narrow(0, 3 * v, 3), alone, 1e-5, 1e-5), $"crop {v} differs when run alone");
        }
    }

    [Fact]
    public void SmallPresetPairsModelsOfComparableSize()
    {
        var crate = DinoShape.From(Config("small", "crate"), "crate");
        var vit = DinoShape.From(Config("small", "vit"), "vit");
        using var c = crate.BuildBackbone("crate").Module;
        using var v = vit.BuildBackbone("vit").Module;
        long cp = c.parameters().Sum(p => p.numel()), vp = v.parameters().Sum(p => p.numel());
        Assert.InRange((double)cp / vp, 0.9, 1.1);
        var named = TheTask.NamedConfigs;
        Assert.Contains(named, n => n.Name == "small-crate" && n.Parameters > cp);
        Assert.Contains(named, n => n.Name == "smoke-vit");
    }

    [Theory]
    [InlineData("data.local_size", "12", "data.local_size")]                                   // not a multiple of patch 7
    [InlineData("model.heads", "3", "model.heads")]                                            // does not divide 32
    [InlineData("data.local_min_scale", "0.5", "data.local_min_scale")]                        // above local_max_scale 0.4
    [InlineData("model.size", "L", "model.dim")]                                               // ViT-L is not named; CRATE-L contradicts dim 32
    public void InconsistentConfigsAreConfigErrorsNamingTheKey(string key, string value, string named)
    {
        var e = Assert.ThrowsAny<ConfigException>(() =>
        {
            DinoShape.From(Config("smoke", "crate", (key, value)), "crate");
            DinoShape.From(Config("smoke", "vit", (key, value)), "vit");
        });
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void OutOfRangeValuesAreRejectedBySchema()
    {
        Assert.ThrowsAny<ConfigException>(() => Config("smoke", "crate", ("dino.out_dim", "1")));
        Assert.ThrowsAny<ConfigException>(() => Config("smoke", "crate", ("dino.student_temp", "0")));
        Assert.ThrowsAny<ConfigException>(() => Config("smoke", "crate", ("train.lr", "1e-3")));   // replaced by train.base_lr
    }

    [Fact]
    public void AMissingDatasetFolderIsADatasetErrorNamingTheFolder()
    {
        using var dir = new Crate.Tests.Data.TempDir();
        var config = Config("smoke", "crate");
        using var local = new Crate.Core.Training.LocalRunContext(null, 0, config) { Task = "dino", Model = "crate", DataDirectories = _ => dir.Path };
        var e = Assert.ThrowsAny<BadInputException>(() => TheTask.Run(local));
        Assert.IsAssignableFrom<DatasetException>(e);
        Assert.Contains(dir.Path, e.Message);
    }
}
