using Crate.Core.Contract;
using Crate.Core.WhiteBox;
using Crate.Plugins.Bert;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crate.Tests.Plugins.Bert;

/// <summary>In-process smoke runs of both models through <see cref="BertTask.Run"/>, and <c>evaluate</c> on their checkpoints.</summary>
public sealed class BertRunTests(BertSmokeFixture fixture) : IClassFixture<BertSmokeFixture>
{
    private (Crate.Core.Training.LocalRunContext Context, RunResult Result) Of(string model) => model == BertModels.Crate ? fixture.Crate : fixture.Bert;

    [Theory]
    [InlineData(BertModels.Crate)]
    [InlineData(BertModels.Bert)]
    public void Smoke_run_returns_every_declared_metric(string model)
    {
        var (_, result) = Of(model);
        foreach (var metric in fixture.Task.Metrics)
            Assert.True(result.Metrics.ContainsKey(metric.Name), $"{model}: missing metric {metric.Name}");
        Assert.All(result.Metrics, kv => Assert.True(double.IsFinite(kv.Value), $"{kv.Key} = {kv.Value}"));
        // Untrained on 30,522 outputs: about ln(30,522) = 10.3 nats per masked token; four steps stay near it.
        Assert.InRange(result.Metrics["mlm_loss"], 8.0, 11.5);
        Assert.Equal(Math.Exp(result.Metrics["mlm_loss"]), result.Metrics["perplexity"], 6);
        foreach (var name in new[] { "mlm_acc", "downstream_acc", "downstream_f1", "cls_linear_top1", "mean_knn20_top1", "bow_linear_top1" })
            Assert.InRange(result.Metrics[name], 0, 100);
        Assert.Equal(fixture.Bert.Result.Metrics["bow_linear_top1"], fixture.Crate.Result.Metrics["bow_linear_top1"]);   // the baseline is model-free
    }

    [Theory]
    [InlineData(BertModels.Crate)]
    [InlineData(BertModels.Bert)]
    public void Both_phases_write_rows_and_checkpoints(string model)
    {
        var (ctx, _) = Of(model);
        var pretrain = ctx.Epochs.Where(r => r.Phase == "pretrain").ToList();
        var finetune = ctx.Epochs.Where(r => r.Phase == "finetune").ToList();
        Assert.Equal(2, pretrain.Count);                                       // train.eval_every=2 of 4 steps
        Assert.All(pretrain, r => Assert.True(r.Metrics.ContainsKey("mlm_acc") && r.Metrics.ContainsKey("train_mlm_acc")));
        Assert.NotEmpty(finetune);
        Assert.All(finetune, r => Assert.True(r.Metrics.ContainsKey("accuracy") && r.Metrics.ContainsKey("macro_f1")));
        Assert.True(Directory.Exists(Path.Combine(ctx.CheckpointDirectory, "pretrain")));
        Assert.True(Directory.Exists(Path.Combine(ctx.CheckpointDirectory, "finetune")));
    }

    [Fact]
    public void Crate_run_reports_white_box_rows_for_every_layer_and_bert_none()
    {
        var (ctx, result) = fixture.Crate;
        Assert.Equal(result.WhiteBox, ctx.WhiteBox);
        foreach (int layer in new[] { 1, 2 })
            foreach (var measure in new[] { WhiteBoxMeasures.Rc, WhiteBoxMeasures.Nonzero })
            {
                var row = Assert.Single(result.WhiteBox, r => r.Layer == layer && r.Measure == measure);
                Assert.Equal(4, row.Samples);                                  // eval.whitebox_sequences=4
                Assert.True(double.IsFinite(row.Mean) && row.Mean >= 0);
            }
        Assert.Empty(fixture.Bert.Result.WhiteBox);
    }

    [Theory]
    [InlineData(BertModels.Crate)]
    [InlineData(BertModels.Bert)]
    public void Evaluate_on_the_run_folder_uses_the_fine_tuned_head_and_matches_the_run(string model)
    {
        var (ctx, result) = Of(model);
        var evaluation = fixture.Task.Evaluate(new CheckpointRequest(model, ctx.CheckpointDirectory, ctx.Config, new HashSet<string>(),
            BertSmokeFixture.Shipped, "cpu", NullLogger.Instance, CancellationToken.None));
        Assert.Contains("fine-tuned", evaluation.Notes[0]);
        Assert.Equal(result.Metrics["downstream_acc"], evaluation.Metrics["downstream_acc"], 6);
        Assert.InRange(evaluation.Metrics["mlm_acc"], 0, 100);
        Assert.True(double.IsFinite(evaluation.Metrics["mlm_loss"]));
    }

    [Fact]
    public void Evaluate_on_a_hugging_face_state_dict_reports_mlm_metrics_and_frozen_probes()
    {
        var (ctx, _) = fixture.Crate;
        var config = ctx.Config;
        var tokenizer = BertData.LoadTokenizer(BertSmokeFixture.Shipped(BertKeys.Vocab));
        var shape = BertKeys.ModelConfig(config, BertModels.Crate, tokenizer.VocabSize, tokenizer.PadId);
        var model = BertModels.Build(BertModels.Crate, shape);
        using var classifier = new Crate.Core.Modules.MaskedLmClassifier(model, 2, 0.0);
        var loaded = BertCheckpoints.LoadInto(Path.Combine(ctx.CheckpointDirectory, "pretrain"), model, classifier);
        Assert.False(loaded.HasClassifier);
        string file = Path.Combine(fixture.Out, "crate-bert.safetensors");
        Crate.Core.Interop.Checkpoint.Save((TorchSharp.torch.nn.Module)model, file);

        var evaluation = fixture.Task.Evaluate(new CheckpointRequest(BertModels.Crate, file, config, new HashSet<string>(),
            BertSmokeFixture.Shipped, "cpu", NullLogger.Instance, CancellationToken.None));
        Assert.Contains("Hugging Face state_dict", evaluation.Notes[0]);
        // The pre-trained weights and the same fixed held-out masks and probes as the run itself.
        Assert.Equal(fixture.Crate.Result.Metrics["mlm_acc"], evaluation.Metrics["mlm_acc"], 6);
        Assert.Equal(fixture.Crate.Result.Metrics["cls_linear_top1"], evaluation.Metrics["cls_linear_top1"], 6);
        Assert.False(evaluation.Metrics.ContainsKey("downstream_acc"));
    }
}
