using Crate.Core.Training;
using Crate.Plugins.Bert;

namespace Crate.Tests.Plugins.Bert;

/// <summary>The MLM training loss falls, for both models, through the plugin's Run.</summary>
public sealed class BertTrainingTests
{
    [Theory]
    [InlineData(BertModels.Crate)]
    [InlineData(BertModels.Bert)]
    public void The_mlm_training_loss_falls(string model)
    {
        var task = new BertTask();
        // 40 steps at lr 3e-3 on Moby-Dick chapters: the loss starts near ln(30,522) = 10.3 and falls as the unigram
        // statistics are learned (measured: 10.25 -> 9.55 for both models). An interval's mean covers about 400 masked
        // tokens (per-token spread about 1 nat, so about 0.05 on the mean): a fall of 0.3 is far outside the noise.
        // Probes off and one fine-tuning step keep the test short.
        var config = task.Schema.Resolve(BertPresets.Smoke.ValuesFor(model),
        [
            KeyValuePair.Create("data.dataset", "moby-dick"), KeyValuePair.Create("train.max_steps", "40"), KeyValuePair.Create("train.eval_every", "10"),
            KeyValuePair.Create("train.lr", "3e-3"), KeyValuePair.Create("train.warmup_steps", "2"), KeyValuePair.Create("finetune.max_steps", "1"),
            KeyValuePair.Create("eval.probes", "false"), KeyValuePair.Create("eval.whitebox_sequences", "0"),
        ]);
        string dir = Path.Combine(Path.GetTempPath(), "crate-bert-loss-" + Guid.NewGuid().ToString("N"));
        using var ctx = new LocalRunContext(dir, seed: 1, config) { Task = "bert", Model = model, DataDirectories = BertSmokeFixture.Shipped };
        var result = task.Run(ctx);
        var rows = ctx.Epochs.Where(r => r.Phase == "pretrain").ToList();
        Assert.Equal(4, rows.Count);
        double first = rows[0].Metrics["train_loss"], last = rows[^1].Metrics["train_loss"];
        Assert.True(last < first - 0.3, $"{model}: train_loss {first:F3} -> {last:F3}");
        Assert.True(rows[^1].Metrics["mlm_loss"] < rows[0].Metrics["mlm_loss"], "held-out MLM loss did not fall");
        Assert.True(double.IsFinite(result.Metrics["downstream_acc"]));
        Directory.Delete(dir, recursive: true);
    }
}
