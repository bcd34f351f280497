using Crate.Core.Contract;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Plugins.Mae;
using Crate.Tests.Host;
using static Crate.Tests.Plugins.Mae.MaeTestSupport;

namespace Crate.Tests.Plugins.Mae;

/// <summary>The mae task's declarations (presets, named configs, paper values) and its rejection of bad input.</summary>
public class MaeTaskTests
{
    [Fact]
    public void EveryPresetResolvesToAValidShapeAndBothPhasesRecipesForBothModels()
    {
        Assert.Equal(["smoke", "small", "paper"], TheTask.Presets.Select(p => p.Name));
        Assert.Equal([MaeModels.Crate, MaeModels.Mae], TheTask.Models.Select(m => m.Name));
        foreach (var preset in TheTask.Presets)
            foreach (var model in TheTask.Models)
            {
                var config = Config(preset.Name, model.Name);
                TheTask.CheckConfig(model.Name, config);
                var shape = MaeModels.From(config, model.Name);
                Assert.True(shape.ParameterCount() > 0, $"{preset.Name}/{model.Name}");
                TrainerOptions.FromConfig(config).Validate();
                var finetune = TrainerOptions.FromConfig(config, MaeKeys.Finetune);
                (finetune with { ParameterScales = ParameterScale.LayerDecay(shape.Depth, finetune.LayerDecay, n => MaeClassifier.LayerOf(n, shape.Depth)) }).Validate();
                // Both models share every key but the architecture ones.
                var other = Config(preset.Name, TheTask.Models.Single(m => m.Name != model.Name).Name).Values;
                Assert.All(config.Values.Keys.Where(k => !Equals(config.Values[k], other[k])), k => Assert.StartsWith("model.", k));
            }
    }

    [Fact]
    public void PaperPresetIsCrateMaeBAgainstVitMaeBWithTheRecipeOfSection3c()
    {
        var crate = MaeModels.From(Config("paper", MaeModels.Crate), MaeModels.Crate);
        var mae = MaeModels.From(Config("paper", MaeModels.Mae), MaeModels.Mae);
        Assert.Equal((768, 12, 12, 768, 12, 12, 224, 16, 3), (crate.Dim, crate.Depth, crate.Heads, crate.DecoderDim, crate.DecoderDepth, crate.DecoderHeads, crate.ImageSize, crate.PatchSize, crate.Channels));
        Assert.Equal((768, 12, 12, 768, 8, 16), (mae.Dim, mae.Depth, mae.Heads, mae.DecoderDim, mae.DecoderDepth, mae.DecoderHeads));
        Assert.Equal(44_638_464, crate.ParameterCount());
        Assert.Equal(143_836_416, mae.ParameterCount());
        Assert.Equal(0.5, crate.Lambda);
        var config = Config("paper", MaeModels.Crate);
        var options = TrainerOptions.FromConfig(config);
        Assert.Equal((OptimizerKind.AdamW, 3e-5 * 4096 / 256, 0.1, 4096, 800, 40.0, 0.95), (options.Optimizer, options.LearningRate, options.WeightDecay,
            options.BatchSize, options.Epochs, options.WarmupEpochs!.Value, options.EffectiveBeta2));
        Assert.Equal(32, options.Accumulation);
        Assert.Equal(0.75, config.Get(MaeKeys.MaskRatio));
        Assert.Equal(["imagefolder"], ((ICrateTask)TheTask).RequiredDatasets(config));
        Assert.Equal(0.65, config.Get(MaeKeys.Finetune.LayerDecay));
    }

    [Fact]
    public void NamedConfigsCarryThePapersCountsAndPaperValuesNameTheirProbeDatasets()
    {
        var named = TheTask.NamedConfigs.ToDictionary(n => n.Name);
        Assert.Equal(25.4e6, named["CRATE-MAE-S"].Parameters, 0.05e6);
        Assert.Equal(44.6e6, named["CRATE-MAE-B"].Parameters, 0.05e6);
        Assert.Equal(47.6e6, named["ViT-MAE-S"].Parameters, 0.05e6);
        Assert.Equal(143.8e6, named["ViT-MAE-B"].Parameters, 0.05e6);
        Assert.Contains("smoke-crate-mae", named.Keys);
        Assert.Contains("small-mae", named.Keys);
        // Comparable sizes in the small preset: within a factor of two.
        double ratio = named["small-crate-mae"].Parameters / (double)named["small-mae"].Parameters;
        Assert.InRange(ratio, 0.5, 2.0);

        var linear = TheTask.PaperValues.Where(v => v.Metric == "linear_top1").ToList();
        Assert.Equal(16, linear.Count);
        Assert.All(linear, v => Assert.Matches("CIFAR-10|CIFAR-100|Flowers-102|Pets", v.Config));
        Assert.Equal(80.9, linear.First(v => v.Model == MaeModels.Crate).Value);   // the paper preset's pair first: CRATE-MAE-B on CIFAR-10
        Assert.Equal(87.9, linear.First(v => v.Model == MaeModels.Mae).Value);
        Assert.All(TheTask.PaperValues, v => Assert.Contains(v.Metric, TheTask.Metrics.Select(m => m.Name)));
    }

    [Theory]
    [InlineData(MaeModels.Mae, "model.mask_ratio", "1", "model.mask_ratio", "leaves no visible patch")]
    [InlineData(MaeModels.Crate, "model.mask_ratio", "0.95", "model.mask_ratio", "leaves no visible patch")]   // floor(16 · 0.05) = 0
    [InlineData(MaeModels.Mae, "model.mask_ratio", "0", "model.mask_ratio", "masks none")]
    [InlineData(MaeModels.Crate, "model.patch_size", "5", "model.patch_size", "does not divide image size 28")]
    [InlineData(MaeModels.Mae, "model.image_size", "30", "model.patch_size", "patch size 7 does not divide image size 30")]
    [InlineData(MaeModels.Crate, "model.decoder_dim", "48", "model.decoder_dim", "must be the encoder's 32")]
    [InlineData(MaeModels.Mae, "model.heads", "3", "model.heads", "3 heads do not divide the width 32")]
    [InlineData(MaeModels.Mae, "model.decoder_heads", "3", "model.decoder_heads", "3 decoder heads do not divide the decoder width 32")]
    [InlineData(MaeModels.Mae, "model.size", "T", "model.size", "not a named size of mae")]
    [InlineData(MaeModels.Crate, "finetune.layer_decay", "0", "finetune.layer_decay", "must be in (0, 1]")]
    public void BadInputIsAConfigExceptionNamingTheKey(string model, string key, string value, string namedKey, string cause)
    {
        var e = Assert.ThrowsAny<ConfigException>(() => TheTask.CheckConfig(model, Config("smoke", model, (key, value))));
        Assert.Contains($"'{namedKey}'", e.Message);
        Assert.Contains(cause, e.Message);
    }

    [Fact]
    public void TheHostRejectsABadMaskRatioBeforeAnythingRunsWithExitCode2()
    {
        var outDir = HostProcess.TempDir("mae-badmask");
        var r = HostProcess.Run(["reproduce", "mae", "--preset", "smoke", "--seeds", "0", "--out", outDir, "--set", "model.mask_ratio=1"]);
        Assert.True(r.ExitCode == 2, r.ToString());
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'model.mask_ratio'", line);
        Assert.False(File.Exists(Path.Combine(outDir, "results.db")));

        var width = HostProcess.Run(["reproduce", "mae", "--preset", "smoke", "--seeds", "0", "--out", outDir, "--set", "model.decoder_dim=48"]);
        Assert.True(width.ExitCode == 2, width.ToString());
        Assert.Contains("crate-mae", width.Stderr);
        Assert.Contains("'model.decoder_dim'", width.Stderr);
        Assert.False(File.Exists(Path.Combine(outDir, "results.db")));
    }

    [Fact]
    public void ConfigShapesMatchTheModulesBuiltFromThem()
    {
        foreach (var model in TheTask.Models)
        {
            var shape = MaeModels.From(Config("smoke", model.Name), model.Name);
            using var module = MaeModels.Build(shape);
            Assert.Equal(shape.ParameterCount(), module.state_dict().Values.Sum(t => t.numel()));
            Assert.Equal(model.Name == MaeModels.Crate ? MaeKind.Crate : MaeKind.Vit, ((IMaskedAutoencoder)module).Config.Kind);
        }
    }
}
