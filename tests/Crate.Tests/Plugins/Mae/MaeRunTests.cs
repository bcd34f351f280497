using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Evaluation;
using Crate.Core.Modules;
using Crate.Core.Interop;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using Crate.Plugins.Mae;
using Crate.Tests.Plugins.Vit;
using static Crate.Tests.Plugins.Mae.MaeTestSupport;

namespace Crate.Tests.Plugins.Mae;

/// <summary>
/// Smoke runs in-process on the shipped Fashion-MNIST subset (256 training / 128 test images) through the real
/// trainer, both phases, and checkpoint evaluation of a run's checkpoint and of reference-named state_dicts.
/// </summary>
public class MaeRunTests
{
    private static (RunResult Result, LocalRunContext Context) SmokeRun(string model, params (string Key, string Value)[] sets)
    {
        var inner = new LocalRunContext(seed: 5, config: Config("smoke", model, sets)) { Task = "mae", Model = model };
        return (TheTask.Run(new ShippedDataRunContext(inner)), inner);
    }

    private static void AssertEveryDeclaredMetricAndFallingLoss(RunResult result, LocalRunContext ctx)
    {
        foreach (var metric in TheTask.Metrics)
            Assert.True(result.Metrics.ContainsKey(metric.Name), $"missing metric {metric.Name}");
        Assert.All(result.Metrics, kv => Assert.True(double.IsFinite(kv.Value), $"{kv.Key} = {kv.Value}"));
        foreach (var name in new[] { "knn20_top1", "knn1_top1", "linear_top1", "raw_linear_top1", "finetune_top1" })
            Assert.InRange(result.Metrics[name], 0, 100);
        Assert.True(result.Metrics["raw_linear_top1"] > 30, "a linear probe on Fashion-MNIST pixels is far above chance");

        // Rows: two pre-training epochs (recon_loss), one fine-tuning epoch (top1), tagged by phase.
        var pretrain = ctx.Epochs.Where(e => e.Phase == "pretrain").ToList();
        var finetune = ctx.Epochs.Where(e => e.Phase == "finetune").ToList();
        Assert.Equal(2, pretrain.Count);
        Assert.Single(finetune);
        Assert.All(pretrain, e => Assert.Contains("recon_loss", e.Metrics.Keys));
        Assert.Contains("top1", finetune[0].Metrics.Keys);
        Assert.True(pretrain[1].Metrics["train_loss"] < pretrain[0].Metrics["train_loss"],
            $"pre-training loss did not fall: {pretrain[0].Metrics["train_loss"]} → {pretrain[1].Metrics["train_loss"]}");
        Assert.Equal(pretrain[1].Metrics["recon_loss"], result.Metrics["recon_loss"], 12);
        Assert.Equal(finetune[0].Metrics["top1"], result.Metrics["finetune_top1"], 12);

        // Reconstruction strips: four 112-pixel panels with 4-pixel gaps.
        Assert.Equal(2, result.Artifacts.Count);
        foreach (var artifact in result.Artifacts)
        {
            Assert.StartsWith("reconstructions", artifact.RelativePath);
            Assert.Equal((4 * 112 + 3 * 4, 112), VitTestSupport.PngSize(Path.Combine(ctx.RunDirectory, artifact.RelativePath)));
        }
    }

    [Fact]
    public void CrateMaeSmokeRunReportsEveryMetricWhiteBoxRowsOfBothHalvesAndEvaluatesItsCheckpoint()
    {
        var (result, ctx) = SmokeRun(MaeModels.Crate);
        using var _ = ctx;
        AssertEveryDeclaredMetricAndFallingLoss(result, ctx);
        Assert.Equal(new Crate.Core.Modules.MaeConfig(Crate.Core.Modules.MaeKind.Crate, 32, 2, 2, 32, 2, 2, 28, 7, 1).ParameterCount(), result.Metrics["parameters"]);

        // White-box rows: encoder (test) and decoder (all tokens; visible patches; mask tokens), trained and at init,
        // 2 layers each, 5 measures (R^c before and after the MSSA step, R, zero and non-zero fractions), 32 images.
        Assert.Equal(result.WhiteBox, ctx.WhiteBox);
        string[] splits = ["test", "test-decoder", "test-decoder-visible", "test-decoder-masked"];
        Assert.Equal(splits.Concat(splits.Select(s => s + "@init")).Order(), result.WhiteBox.Select(r => r.Split).Distinct().Order());
        Assert.Equal(2 * splits.Length * 2 * 5, result.WhiteBox.Count);
        foreach (var split in splits)
            foreach (var layer in new[] { 1, 2 })
            {
                var rc = result.WhiteBox.Single(r => r.Split == split && r.Layer == layer && r.Measure == WhiteBoxMeasures.Rc);
                Assert.Equal(32, rc.Samples);
                Assert.True(rc.Mean > 0, $"{split} {layer}: R^c {rc.Mean}");
            }
        // The encoder's ISTA output has exact zeros (λ = 0.5); the decoder output has no ReLU.
        Assert.True(result.WhiteBox.Single(r => r.Split == "test" && r.Layer == 2 && r.Measure == WhiteBoxMeasures.ZeroFraction).Mean > 0);
        Assert.Equal(0, result.WhiteBox.Single(r => r.Split == "test-decoder" && r.Layer == 2 && r.Measure == WhiteBoxMeasures.ZeroFraction).Mean);

        // The run's checkpoint folder (its pretrain phase) evaluates to the run's test reconstruction loss and probes.
        var evaluation = TheTask.Evaluate(Request(MaeModels.Crate, ctx.CheckpointDirectory, "smoke"));
        Assert.Equal(result.Metrics["recon_loss"], evaluation.Metrics["recon_loss"], 6);
        Assert.Equal(result.Metrics["linear_top1"], evaluation.Metrics["linear_top1"], 6);
        Assert.Equal(result.Metrics["knn20_top1"], evaluation.Metrics["knn20_top1"], 6);
        Assert.Contains(evaluation.Notes, n => n.Contains("dim 32") && n.Contains("decoder depth 2"));
    }

    /// <summary>
    /// The controls are what they claim, recomputed here by an independent path: the <c>init_*</c> probes are the
    /// probes of a freshly built autoencoder of the run's init seed (<see cref="MaeTask.Initial"/>, the builder the
    /// pre-training starts from), on the same low-label subsets; the <c>scratch_*</c> fine-tune is the same fine-tuning
    /// recipe applied to such a fresh encoder; and the fresh encoder differs from the pre-trained one.
    /// </summary>
    private static void AssertControlsAreWhatTheyClaim(string model, RunResult result, LocalRunContext ctx)
    {
        var config = Config("smoke", model);
        var shape = MaeModels.From(config, model);
        var seeds = TrainingSeeds.From(ctx.Seed);
        var data = ImageTaskData.Load(config, VitTestSupport.FashionMnist, shape.Channels, shape.ImageSize, config.GetInt(ImageKeys.NumClasses));
        using var evaluator = new MaeEvaluator(data, shape, MaeModels.KeepCount(config, shape.NumPatches), config.GetInt(MaeKeys.MaskSeed),
            config.GetInt(MaeKeys.EvalBatch), 1, false);
        var suite = evaluator.Suite(config.GetInt(MaeKeys.ProbeTrainLimit), ProbeKeys.LowLabelCounts(config), SeedMath.Derive(ctx.Seed, "low-label"),
            config.GetInt(MaeKeys.ProbeMaxIterations));
        Assert.Equal([10, 100], suite.Budgets.Select(b => b.PerClass));

        using (var fresh = MaeTask.Initial(shape, seeds))
        {
            fresh.eval();
            var init = evaluator.EncoderProbes((IMaskedAutoencoder)fresh, fresh, suite, Devices.Resolve("cpu"), "init_");
            foreach (var name in TheTask.Metrics.Where(m => m.Control?.Kind == ControlKind.Initialisation).Select(m => m.Name))
                Assert.Equal(init[name], result.Metrics[name], 9);

            // The untrained encoder is the same for the same seed, another for another seed, and not the trained one.
            using var again = MaeTask.Initial(shape, seeds);
            using var other = MaeTask.Initial(shape, TrainingSeeds.From(ctx.Seed + 1));
            using var trained = MaeModels.Build(shape);
            MaeCheckpoint.Open(ctx.CheckpointDirectory, model, config).LoadInto(trained);
            foreach (var (name, p) in fresh.named_parameters())
            {
                Assert.True(p.eq(again.named_parameters().Single(q => q.name == name).parameter).all().item<bool>(), $"{name} differs for the same seed");
            }
            Assert.Contains(fresh.named_parameters(), np => np.parameter.requires_grad
                && !np.parameter.eq(other.named_parameters().Single(q => q.name == np.name).parameter).all().item<bool>());
            Assert.Contains(fresh.named_parameters(), np => np.parameter.requires_grad
                && !np.parameter.eq(trained.named_parameters().Single(q => q.name == np.name).parameter).all().item<bool>());
        }

        using var scratch = MaeTask.Initial(shape, seeds);
        using var phase = new LocalRunContext(seed: ctx.Seed, config: config) { Task = "mae", Model = model };
        var fromScratch = MaeTask.Finetune((IMaskedAutoencoder)scratch, data, shape, seeds, TrainerOptions.FromConfig(config, MaeKeys.Finetune), config,
            evaluator, phase.Phase("finetune-scratch"), 1, false);
        Assert.Equal(fromScratch.FinalMetrics["top1"], result.Metrics["scratch_finetune_top1"], 9);
        Assert.Equal(fromScratch.FinalMetrics["loss"], result.Metrics["scratch_finetune_loss"], 9);
        Assert.Contains(ctx.Epochs, e => e.Phase == "finetune-scratch");
    }

    [Fact]
    public void MaeSmokeRunReportsEveryMetricAndNoWhiteBoxRows()
    {
        var (result, ctx) = SmokeRun(MaeModels.Mae);
        using var _ = ctx;
        AssertEveryDeclaredMetricAndFallingLoss(result, ctx);
        AssertControlsAreWhatTheyClaim(MaeModels.Mae, result, ctx);
        Assert.Empty(result.WhiteBox);
        Assert.Empty(ctx.WhiteBox);
    }

    [Theory]
    [InlineData(MaeModels.Crate, "mae_crate_fixture.safetensors")]
    [InlineData(MaeModels.Mae, "mae_vit_fixture.pth")]
    public void ReferenceStateDictsEvaluateWithTheirShapeReadOffTheTensors(string model, string file)
    {
        // The fixtures are 8×8 RGB with patch 2: evaluate them on CIFAR-shaped data is not shipped, so check the
        // shape resolution and loading alone (reconstruction parity is MaeParityTests).
        var config = Config("smoke", model, ("model.heads", "2"), ("model.decoder_heads", "2"));
        var checkpoint = MaeCheckpoint.Open(Path.Combine(AppContext.BaseDirectory, "Fixtures", file), model, config);
        var expected = model == MaeModels.Crate ? MaeParityTests.CrateFixture : MaeParityTests.VitFixture;
        Assert.Equal(expected with { Eta = checkpoint.Shape.Eta, Lambda = checkpoint.Shape.Lambda, MlpRatio = checkpoint.Shape.MlpRatio }, checkpoint.Shape);
        Assert.Equal(expected.MlpRatio, checkpoint.Shape.MlpRatio);
        using var module = MaeModels.Build(checkpoint.Shape);
        checkpoint.LoadInto(module);
        Assert.False(checkpoint.IsTrainerState);
    }

    [Fact]
    public void AnotherModelsStateDictIsACheckpointExceptionNamingTheFile()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "mae_vit_fixture.pth");
        var e = Assert.ThrowsAny<CheckpointException>(() => MaeCheckpoint.Open(path, MaeModels.Crate, Config("smoke", MaeModels.Crate)));
        Assert.Contains("mae_vit_fixture.pth", e.Message);
        Assert.Contains("blocks.0.layers.0.1.fn.weight", e.Message);
    }
}
