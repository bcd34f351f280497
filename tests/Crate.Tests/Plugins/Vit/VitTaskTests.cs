using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Training;
using Crate.Plugins.Vit;
using static Crate.Tests.Plugins.Vit.VitTestSupport;

namespace Crate.Tests.Plugins.Vit;

/// <summary>The task's declarations: schema, presets, datasets, named configurations, paper values.</summary>
public class VitTaskTests
{
    // Presets resolving, declarations, named-config counts and the smoke run's metrics: tests/Crate.Tests/Contract/PluginContractTests.cs.

    [Fact]
    public void BothModelsShareTheRecipeAndDifferOnlyInArchitectureKeys()
    {
        Assert.Equal(["crate", "vit"], TheTask.Models.Select(m => m.Name));
        foreach (var preset in TheTask.Presets)
        {
            var crate = Config(preset.Name, "crate").Values;
            var vit = Config(preset.Name, "vit").Values;
            var differing = crate.Keys.Where(k => !Equals(crate[k], vit[k])).ToList();
            Assert.All(differing, k => Assert.StartsWith("model.", k));
            Assert.All(preset.PerModel.Values.SelectMany(v => v.Keys), k => Assert.StartsWith("model.", k));
        }
    }

    [Fact]
    public void PaperPresetIsCrateBAgainstVitSWithThePapersRecipe()
    {
        var crate = VisionShape.From(Config("paper", "crate"), "crate");
        var vit = VisionShape.From(Config("paper", "vit"), "vit");
        Assert.Equal((768, 12, 12, 64, 224, 16, 3, 1000), (crate.Dim, crate.Depth, crate.Heads, crate.HeadDim, crate.ImageSize, crate.PatchSize, crate.Channels, crate.NumClasses));
        Assert.Equal((384, 12, 6, 64), (vit.Dim, vit.Depth, vit.Heads, vit.HeadDim));

        var config = Config("paper", "crate");
        var options = TrainerOptions.FromConfig(config);
        Assert.Equal(OptimizerKind.Lion, options.Optimizer);
        Assert.Equal((2.4e-4, 0.5, 2048, 150, 5.0), (options.LearningRate, options.WeightDecay, options.BatchSize, options.Epochs, options.WarmupEpochs!.Value));
        Assert.Equal(16, options.Accumulation);
        Assert.Equal(0.1, config.Get(VitKeys.LabelSmoothing));
        Assert.Equal(["imagefolder"], ((ICrateTask)TheTask).RequiredDatasets(config));

        // Other sizes through model.size.
        var tiny = VisionShape.From(Config("paper", "crate", ("model.size", "T")), "crate");
        Assert.Equal((384, 12, 6), (tiny.Dim, tiny.Depth, tiny.Heads));
        Assert.Equal(6.09e6, tiny.ParameterCount("crate", Config("paper", "crate", ("model.size", "T"))), 0.005e6);
    }

    [Fact]
    public void ANamedSizeThatContradictsAShapeKeyIsAnErrorNamingBoth()
    {
        var e = Assert.Throws<ConfigException>(() => VisionShape.From(Config("paper", "crate", ("model.dim", "512")), "crate"));
        Assert.Contains("model.dim", e.Message);
        Assert.Contains("512", e.Message);
        Assert.Contains("768", e.Message);
        Assert.Throws<ConfigException>(() => VisionShape.From(Config("paper", "vit", ("model.size", "L")), "vit"));
        Assert.Throws<ConfigException>(() => VisionShape.From(Config("small", "vit", ("model.dim_head", "7")), "vit"));
    }

    [Fact]
    public void NamedConfigsCarryThePapersParameterCounts()
    {
        var named = TheTask.NamedConfigs.ToDictionary(n => n.Name);
        var expected = new Dictionary<string, double>
        {
            ["CRATE-T"] = 6.09e6, ["CRATE-S"] = 13.12e6, ["CRATE-B"] = 22.80e6, ["CRATE-L"] = 77.64e6,
            ["ViT-T"] = 5.72e6, ["ViT-S"] = 22.05e6,
        };
        foreach (var (name, count) in expected)
            Assert.True(Math.Abs(named[name].Parameters - count) < 0.005e6, $"{name}: {named[name].Parameters}");
        // timm's ViT-B/16 at 1000 classes: 86,567,656 (docs/paper.md §2 quotes 86.54M for it).
        Assert.Equal(86_567_656, named["ViT-B"].Parameters);
        Assert.Contains("small-crate", named.Keys);
        Assert.Contains("small-vit", named.Keys);
        Assert.Equal("vit", named["small-vit"].Model);
    }

    [Fact]
    public void DatasetsAndPaperValuesAreDeclared()
    {
        var fashion = ((ICrateTask)TheTask).Datasets.Single(d => d.Name == "fashion-mnist");
        Assert.Equal("fashion-mnist", fashion.ShippedDefault);
        Assert.Equal("/usr/share/datasets/fashion-mnist", fashion.SystemPath);
        Assert.All(((ICrateTask)TheTask).Datasets.Where(d => d.ShippedDefault is null), d => Assert.False(string.IsNullOrWhiteSpace(d.HowToGet)));
        Assert.Equal(ImageTaskDatasets.Names.Order(), ((ICrateTask)TheTask).Datasets.Select(d => d.Name).Order());
        Assert.Equal(["fashion-mnist"], ((ICrateTask)TheTask).RequiredDatasets(Config("small", "crate")));
        Assert.Equal(["cifar10"], ((ICrateTask)TheTask).RequiredDatasets(Config("small", "crate", ("data.dataset", "cifar10"))));

        // The report shows the first value per (model, metric): the paper preset's pair.
        var top1 = TheTask.PaperValues.Where(p => p.Metric == "top1").ToList();
        Assert.Equal(70.8, top1.First(p => p.Model == "crate").Value);
        Assert.Equal(72.4, top1.First(p => p.Model == "vit").Value);
        Assert.Equal([66.7, 69.2, 70.8, 71.3], top1.Where(p => p.Model == "crate").Select(p => p.Value).Order());
        Assert.Contains(top1, p => p.Config.StartsWith("CRATE-T, ImageNet-1K 224px", StringComparison.Ordinal));
    }
}
