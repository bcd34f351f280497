using Crate.Core.Contract;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using TorchSharp;
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
    public void Crate_run_reports_white_box_rows_for_every_layer_trained_and_at_initialisation_and_bert_none()
    {
        var (ctx, result) = fixture.Crate;
        Assert.Equal(result.WhiteBox, ctx.WhiteBox);
        Assert.Equal(["val", "val@init"], result.WhiteBox.Select(r => r.Split).Distinct().Order());
        foreach (var split in new[] { "val", "val@init" })
            foreach (int layer in new[] { 1, 2 })
                foreach (var measure in new[] { WhiteBoxMeasures.Rc, WhiteBoxMeasures.R, WhiteBoxMeasures.ZeroFraction, WhiteBoxMeasures.Nonzero })
                {
                    var row = Assert.Single(result.WhiteBox, r => r.Split == split && r.Layer == layer && r.Measure == measure);
                    Assert.Equal(4, row.Samples);                              // eval.whitebox_sequences=4
                    Assert.True(double.IsFinite(row.Mean) && row.Mean >= 0);
                }
        Assert.Empty(fixture.Bert.Result.WhiteBox);

        // The rows at initialisation are those of a freshly built CRATE-BERT of the run's init seed, on the same sequences.
        var config = ctx.Config;
        var data = BertData.Load(config, BertSmokeFixture.Shipped);
        var shape = BertKeys.ModelConfig(config, BertModels.Crate, data.Tokenizer.VocabSize, data.Tokenizer.PadId);
        torch.manual_seed(TrainingSeeds.From(ctx.Seed).Init);
        using var fresh = new CrateBertForMaskedLM(shape);
        var expected = BertEvaluation.WhiteBox(fresh, data.Mlm.Validation, config.GetInt(BertKeys.WhiteBoxSequences), torch.CPU, "val@init");
        Assert.Equal(expected, result.WhiteBox.Where(r => r.Split == "val@init"));
        Assert.NotEqual(expected.Select(r => r.Mean), result.WhiteBox.Where(r => r.Split == "val").Select(r => r.Mean));
    }

    [Fact]
    public void White_box_sequences_are_long_real_sequences_of_one_length_without_padding()
    {
        var (ctx, _) = fixture.Crate;
        var data = BertData.Load(ctx.Config, BertSmokeFixture.Shipped);
        int longest = data.Mlm.Validation.Max(s => s.Ids.Length);
        var rows = BertEvaluation.WhiteBoxSequences(data.Mlm.Validation, 32);
        Assert.Equal(32, rows.Length);
        int length = rows[0].Length;
        Assert.True(2 * length >= longest, $"{length} of at most {longest} ids");
        Assert.All(rows, r => Assert.Equal(length, r.Length));
        Assert.All(rows, r => Assert.DoesNotContain(data.Tokenizer.PadId, r));
        Assert.All(rows, r => Assert.Equal(data.Tokenizer.ClsId, r[0]));
        Assert.Empty(BertEvaluation.WhiteBoxSequences(data.Mlm.Validation, 0));
    }

    /// <summary>
    /// The controls are what they claim, recomputed by an independent path: the <c>init_*</c> probes are the probes of a
    /// CRATE-BERT / BERT built afresh with the run's init seed (torch seeded by hand, not through <see cref="BertTask.Initial"/>);
    /// that encoder is the same for the same seed, another for another seed, and not the pre-trained one; the
    /// <c>scratch_*</c> numbers are the fine-tuning recipe applied to such a fresh encoder, in the run's own phase
    /// <c>finetune-scratch</c>; the bag of words is the same for both models.
    /// </summary>
    [Theory]
    [InlineData(BertModels.Crate)]
    [InlineData(BertModels.Bert)]
    public void Controls_are_the_untrained_encoder_of_the_runs_seed_through_the_same_probes_and_fine_tuning(string model)
    {
        var (ctx, result) = Of(model);
        var config = ctx.Config;
        var data = BertData.Load(config, BertSmokeFixture.Shipped);
        var tok = data.Tokenizer;
        var shape = BertKeys.ModelConfig(config, model, tok.VocabSize, tok.PadId);
        var seeds = TrainingSeeds.From(ctx.Seed);
        TorchSharp.torch.nn.Module Fresh(long seed)
        {
            torch.manual_seed(TrainingSeeds.From(seed).Init);
            return model == BertModels.Crate ? new CrateBertForMaskedLM(shape) : new BertForMaskedLM(shape);
        }

        using var fresh = Fresh(ctx.Seed);
        var init = BertEvaluation.FrozenProbes((IMaskedLanguageModel)fresh, data.Downstream, tok.PadId, config.GetInt(BertKeys.EvalBatch), torch.CPU, BertTask.InitPrefix);
        var declared = fixture.Task.Metrics.Where(m => m.Control?.Kind == ControlKind.Initialisation).Select(m => m.Name).ToList();
        Assert.Equal(6, declared.Count);
        foreach (var name in declared)
            Assert.Equal(init[name], result.Metrics[name], 9);

        using var initial = (TorchSharp.torch.nn.Module)BertTask.Initial(model, shape, seeds);
        using var other = Fresh(ctx.Seed + 1);
        var trained = BertModels.Build(model, shape);
        using var head = new MaskedLmClassifier(trained, 2, 0.0);
        BertCheckpoints.LoadInto(Path.Combine(ctx.CheckpointDirectory, "pretrain"), trained, head);
        var pretrained = ((TorchSharp.torch.nn.Module)trained).named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var otherSeed = other.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var same = initial.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in fresh.named_parameters())
            Assert.True(p.eq(same[name]).all().item<bool>(), $"{name}: BertTask.Initial differs from a model built with the run's init seed");
        Assert.Contains(fresh.named_parameters(), np => !np.parameter.eq(otherSeed[np.name]).all().item<bool>());
        Assert.Contains(fresh.named_parameters(), np => !np.parameter.eq(pretrained[np.name]).all().item<bool>());

        using var scratchModel = Fresh(ctx.Seed);
        using var phase = new LocalRunContext(seed: ctx.Seed, config: config) { Task = "bert", Model = model };
        var scratch = BertTask.Finetune((IMaskedLanguageModel)scratchModel, shape, data.Downstream, seeds, config, phase.Phase("finetune-scratch"));
        Assert.Equal(scratch.FinalMetrics["accuracy"], result.Metrics["scratch_downstream_acc"], 9);
        Assert.Equal(scratch.FinalMetrics["macro_f1"], result.Metrics["scratch_downstream_f1"], 9);
        Assert.Contains(ctx.Epochs, e => e.Phase == "finetune-scratch");
        Assert.True(Directory.Exists(Path.Combine(ctx.CheckpointDirectory, "finetune-scratch")));
        Assert.Equal(fixture.Crate.Result.Metrics["bow_linear_top1"], fixture.Bert.Result.Metrics["bow_linear_top1"]);
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
