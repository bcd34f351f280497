using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Core.WhiteBox;
using Crate.Plugins.Vit;
using Crate.Core.Training;
using TorchSharp;
using static Crate.Tests.Plugins.Vit.VitTestSupport;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Vit;

/// <summary>
/// Smoke runs in-process on the shipped Fashion-MNIST subset (512 training / 256 test images) and
/// checkpoint evaluation of our checkpoints and of reference-named state_dicts.
/// </summary>
public class VitRunTests
{
    private static (RunResult Result, LocalRunContext Context) SmokeRun(string model, params (string Key, string Value)[] sets)
    {
        var inner = new LocalRunContext(seed: 3, config: Config("smoke", model, sets)) { Task = "vit", Model = model };
        return (TheTask.Run(new ShippedDataRunContext(inner)), inner);
    }

    [Fact]
    public void CrateSmokeRunReportsMetricsWhiteBoxRowsAttentionPngsAndEvaluatesItsCheckpoint()
    {
        var (result, ctx) = SmokeRun("crate");
        using var _ = ctx;
        // Every declared metric, a falling loss and top-1 above chance: the contract test (Contract/PluginContractTests.cs).
        Assert.InRange(result.Metrics["top5"], result.Metrics["top1"], 100);
        Assert.Equal(new CrateClassifier(new CrateConfig(32, 2, 2, 28, 4, 1, 10)).parameters().Sum(p => p.numel()), result.Metrics["parameters"]);
        Assert.Equal(2, ctx.Epochs.Count);
        Assert.All(ctx.Epochs, e => Assert.Contains("top1", e.Metrics.Keys));

        // White-box rows: 2 layers x {Rc, Rc_after_mssa, R, zero_fraction, nonzero} x {test, train, test@init}, reported and returned.
        Assert.Equal(result.WhiteBox, ctx.WhiteBox);
        Assert.Equal(2 * 5 * 3, result.WhiteBox.Count);
        foreach (var split in new[] { "test", "train", "test@init" })
            foreach (var layer in new[] { 1, 2 })
            {
                var rc = result.WhiteBox.Single(r => r.Split == split && r.Layer == layer && r.Measure == WhiteBoxMeasures.Rc);
                Assert.Single(result.WhiteBox, r => r.Split == split && r.Layer == layer && r.Measure == WhiteBoxMeasures.Nonzero);
                Assert.Equal(32, rc.Samples);
            }

        // Attention strips: input, 2 heads, mean; 112-pixel panels with 4-pixel gaps.
        Assert.Equal(2, result.Artifacts.Count);
        foreach (var artifact in result.Artifacts)
        {
            string path = Path.Combine(ctx.RunDirectory, artifact.RelativePath);
            Assert.StartsWith("attention", artifact.RelativePath);
            Assert.Equal((4 * 112 + 3 * 4, 112), PngSize(path));
        }

        // The trainer's checkpoint folder evaluates to the run's final accuracy; the shape is read off the file.
        var evaluation = TheTask.Evaluate(Request("crate", ctx.CheckpointDirectory, "small", ("data.test_limit", "256"), ("model.heads", "2")));
        Assert.Equal(result.Metrics["top1"], evaluation.Metrics["accuracy"], 9);
        Assert.Equal(256, evaluation.Metrics["total"]);
        Assert.Equal(evaluation.Metrics["accuracy"], 100 * evaluation.Metrics["correct"] / evaluation.Metrics["total"], 9);
        Assert.Contains(evaluation.Notes, n => n.Contains("model.dim=32") && n.Contains("model.depth=2") && n.StartsWith("Inferred", StringComparison.Ordinal));
        Assert.Contains(evaluation.Notes, n => n.Contains("model.heads=2") && n.StartsWith("Set explicitly", StringComparison.Ordinal));
    }

    [Fact]
    public void VitSmokeRunReportsMetricsAndNoWhiteBoxRows()
    {
        var (result, ctx) = SmokeRun("vit", ("eval.attention_images", "0"));
        using var _ = ctx;
        Assert.Equal(new VisionTransformer(new VitConfig(32, 2, 2, 28, 4, 1, 10)).parameters().Sum(p => p.numel()), result.Metrics["parameters"]);
        Assert.Empty(result.WhiteBox);
        Assert.Empty(ctx.WhiteBox);
        Assert.Empty(result.Artifacts);
    }

    [Fact]
    public void EvaluatesAReferenceNamedStateDictAndInfersItsShape()
    {
        using var dir = new Crate.Tests.Data.TempDir();
        string path = dir.File("crate.pth");
        manual_seed(11);
        using var model = new CrateClassifier(new CrateConfig(Dim: 48, Depth: 3, Heads: 3, ImageSize: 28, PatchSize: 7, Channels: 1, NumClasses: 10));
        Checkpoint.Save(model, path);

        // The preset says d=192, depth 6, patch 4: everything but the heads comes from the file.
        var result = TheTask.Evaluate(Request("crate", path, "small", ("data.test_limit", "200")));
        string inferred = result.Notes.Single(n => n.StartsWith("Inferred from the checkpoint", StringComparison.Ordinal));
        foreach (var part in new[] { "model.dim=48", "model.depth=3", "model.patch_size=7", "model.image_size=28", "model.channels=1", "model.num_classes=10" })
            Assert.Contains(part, inferred);
        Assert.Contains(result.Notes, n => n.StartsWith("model.heads=3 is not stored in the weights", StringComparison.Ordinal));
        Assert.Equal(200, result.Metrics["total"]);

        // The same numbers as evaluating the model directly.
        var data = ImageTaskData.Load(Config("small", "crate", ("data.test_limit", "200")), FashionMnist, channels: 1, imageSize: 28, numClasses: 10,
            loadTrain: false);
        var direct = new VitEvaluation(data.Test, data.TestPipeline, 64, 1).Evaluate(model, CPU);
        Assert.Equal(direct["correct"], result.Metrics["correct"]);
        Assert.Equal(direct["loss"], result.Metrics["loss"], 5);
    }

    [Fact]
    public void AnExplicitKeyThatContradictsTheCheckpointIsAnErrorNamingBothValues()
    {
        using var dir = new Crate.Tests.Data.TempDir();
        string crate = dir.File("crate.safetensors"), vit = dir.File("vit.pth");
        manual_seed(12);
        using (var model = new CrateClassifier(new CrateConfig(Dim: 32, Depth: 2, Heads: 2, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10)))
            Checkpoint.Save(model, crate);
        using (var model = new VisionTransformer(new VitConfig(Dim: 32, Depth: 2, Heads: 2, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10)))
            Checkpoint.Save(model, vit);

        var e = Assert.Throws<ConfigException>(() => TheTask.Evaluate(Request("crate", crate, "small", ("model.dim", "64"))));
        Assert.Contains("model.dim", e.Message);
        Assert.Contains("64", e.Message);
        Assert.Contains("cls_token [1, 1, 32]", e.Message);

        var depth = Assert.Throws<ConfigException>(() => TheTask.Evaluate(Request("vit", vit, "small", ("model.depth", "6"))));
        Assert.Contains("'model.depth' is 6", depth.Message);
        Assert.Contains("has 2", depth.Message);

        var heads = Assert.Throws<ConfigException>(() => TheTask.Evaluate(Request("crate", crate, "small", ("model.heads", "5"))));
        Assert.Contains("model.heads", heads.Message);

        // The wrong model for the file names the key it lacks.
        var wrong = Assert.Throws<CheckpointShapeException>(() => TheTask.Evaluate(Request("vit", crate, "small")));
        Assert.Contains("patch_embed.proj.weight", wrong.Message);
    }

    [Fact]
    public void EvaluatesAVitStateDictWithTheShapeInferredAndTheHeadsFromThePreset()
    {
        using var dir = new Crate.Tests.Data.TempDir();
        string path = dir.File("vit.safetensors");
        manual_seed(13);
        // The small preset's ViT shape: heads come from the preset because its width matches the file.
        var shape = VisionShape.From(Config("small", "vit"), "vit");
        using var model = new VisionTransformer(shape.ToVit() with { Depth = 1 });
        Checkpoint.Save(model, path);
        var result = TheTask.Evaluate(Request("vit", path, "small", ("data.test_limit", "100")));
        Assert.Contains(result.Notes, n => n.StartsWith($"model.heads={shape.Heads} is not stored in the weights; taken from the preset", StringComparison.Ordinal));
        Assert.Contains(result.Notes, n => n.Contains("model.depth=1 (blocks.0-0)"));
        Assert.Equal(100, result.Metrics["total"]);
    }
}
