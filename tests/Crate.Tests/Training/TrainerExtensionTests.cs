using Crate.Core.Contract;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Training;

/// <summary>
/// The trainer's extension points the pre-training tasks stand on: the hook before the optimizer step,
/// auxiliary metrics, per-parameter learning-rate / weight-decay scales, prefixed recipe keys, the summed
/// training time, and run phases (own checkpoints, rows and resume).
/// </summary>
public class TrainerExtensionTests
{
    private static TrainerOptions Options(int epochs = 2) => new()
    {
        LearningRate = 0.05, WarmupSteps = 1, WeightDecay = 0.01, GradClip = 1.0, BatchSize = 8, MicroBatchSize = 4, Epochs = epochs,
    };

    [Fact]
    public void BeforeOptimizerStepSeesTheClippedGradientsAndCanCancelThem()
    {
        // Zeroing fc2's gradients before every step (as DINO does to its last layer in epoch 1) keeps fc2 at its
        // initial value under AdamW without weight decay, while fc1 trains; the hook sees gradients whose global norm
        // is at most the clip.
        using var ctx = new LocalRunContext(seed: 3);
        var model = TinyTask.Model(3, dropout: 0);
        var initial = TinyTask.Snapshot(model);
        var data = new SyntheticClassification(32, 4, TrainingSeeds.From(3));
        var norms = new List<double>();
        var spec = new TrainingSpec<TinyBatch>
        {
            Trainable = [model], Data = data, Loss = (b, _) => Losses.CrossEntropy(model.forward(b.X), b.Y),
            BeforeOptimizerStep = _ =>
            {
                var grads = model.parameters().Select(p => p.grad!).ToList();
                norms.Add(Math.Sqrt(grads.Sum(g => g.pow(2).sum().ToDouble())));
                foreach (var (name, p) in model.named_parameters())
                    if (name.StartsWith("fc2.", StringComparison.Ordinal)) p.grad!.zero_();
            },
        };
        var result = new Trainer<TinyBatch>(spec, Options() with { WeightDecay = 0, GradClip = 0.5 }, ctx).Run();
        var after = TinyTask.Snapshot(model);

        Assert.Equal(result.Steps, norms.Count);
        Assert.All(norms, n => Assert.True(n <= 0.5 + 1e-5, $"gradient norm {n} after clipping at 0.5"));
        Assert.Equal(initial["fc2.weight"], after["fc2.weight"]);
        Assert.Equal(initial["fc2.bias"], after["fc2.bias"]);
        Assert.NotEqual(initial["fc1.weight"], after["fc1.weight"]);
    }

    [Fact]
    public void AuxiliaryMetricsAreAveragedIntoTheRowsAndSurviveAResume()
    {
        // The loss records the micro-batch's accuracy and a constant; each row holds train_<name> = the mean over the
        // interval's steps of the per-step mean. A run cancelled mid-epoch and resumed writes the same rows.
        static (TrainingSpec<TinyBatch> Spec, TinyClassifier Model) Build(List<double> perStep)
        {
            var model = TinyTask.Model(8, dropout: 0);
            var data = new SyntheticClassification(32, 4, TrainingSeeds.From(8));
            double sum = 0; int count = 0;
            var spec = new TrainingSpec<TinyBatch>
            {
                Trainable = [model], Data = data,
                Loss = (b, ctx) =>
                {
                    var logits = model.forward(b.X);
                    double acc = logits.argmax(-1).eq(b.Y).to(float64).mean().ToDouble();
                    ctx.Record("acc", acc);
                    ctx.Record("constant", 2.5);
                    (sum, count) = (sum + acc, count + 1);
                    if (ctx.MicroBatch == 1) { perStep.Add(sum / count); (sum, count) = (0, 0); }
                    return Losses.CrossEntropy(logits, b.Y);
                },
            };
            return (spec, model);
        }

        var perStep = new List<double>();
        using var whole = new LocalRunContext(seed: 8);
        var (spec, _) = Build(perStep);
        var result = new Trainer<TinyBatch>(spec, Options(), whole).Run();
        Assert.Equal(2, whole.Epochs.Count);
        long stepsPerEpoch = result.Steps / 2;
        for (int e = 0; e < 2; e++)
        {
            double expected = perStep.Skip(e * (int)stepsPerEpoch).Take((int)stepsPerEpoch).Average();
            Assert.Equal(expected, whole.Epochs[e].Metrics["train_acc"], 12);
            Assert.Equal(2.5, whole.Epochs[e].Metrics["train_constant"], 12);
        }

        using var first = new LocalRunContext(seed: 8);
        first.OnProgress = (p, c) => { if (p.Step == 2) c.Cancel(); };
        var (spec1, _) = Build([]);
        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer<TinyBatch>(spec1, Options(), first).Run());
        using var second = new LocalRunContext(first.RunDirectory, seed: 8) { ResumeCheckpoint = first.CheckpointDirectory };
        var (spec2, _) = Build([]);
        new Trainer<TinyBatch>(spec2, Options(), second).Run();
        var resumedRows = first.Epochs.Concat(second.Epochs).ToList();
        Assert.Equal(whole.Epochs.Select(r => r.Metrics["train_acc"]), resumedRows.Select(r => r.Metrics["train_acc"]));
    }

    [Fact]
    public void ParameterScalesSetEachGroupsLearningRateAndWeightDecay()
    {
        // lr scale 0 freezes fc1 (and its decay, lr·wd = 0); fc2 trains at the full rate. A resume with other
        // groups is refused by name.
        using var ctx = new LocalRunContext(seed: 2);
        var model = TinyTask.Model(2, dropout: 0);
        var initial = TinyTask.Snapshot(model);
        var data = new SyntheticClassification(32, 4, TrainingSeeds.From(2));
        var spec = TrainingSpec.ForModel(model, data, (b, _) => Losses.CrossEntropy(model.forward(b.X), b.Y));
        var options = Options() with
        {
            ParameterScales = (name, _) => name.StartsWith("fc1.", StringComparison.Ordinal) ? new ParameterScale(0, 1) : ParameterScale.One,
        };
        new Trainer<TinyBatch>(spec, options, ctx).Run();
        var after = TinyTask.Snapshot(model);
        Assert.Equal(initial["fc1.weight"], after["fc1.weight"]);
        Assert.Equal(initial["fc1.bias"], after["fc1.bias"]);
        Assert.NotEqual(initial["fc2.weight"], after["fc2.weight"]);

        ctx.ResumeCheckpoint = ctx.CheckpointDirectory;
        var e = Assert.Throws<TrainerConfigException>(() => new Trainer<TinyBatch>(spec, Options(), ctx).Run());
        Assert.Contains("optimizer groups", e.Message);
    }

    [Fact]
    public void LayerDecayScalesByDepthFromTheHeadDown()
    {
        // L = 2 blocks: embeddings (id 0) at decay³, block 1 at decay², block 2 at decay, the head at 1 (MAE's rule).
        var scales = ParameterScale.LayerDecay(2, 0.5, name => name switch { "embed" => 0, "b1" => 1, "b2" => 2, _ => 3 });
        Assert.Equal([0.125, 0.25, 0.5, 1.0], new[] { "embed", "b1", "b2", "head" }.Select(n => scales(n, null!).LearningRate));
        Assert.Throws<TrainerConfigException>(() => ParameterScale.LayerDecay(2, 0.5, _ => 4)("x", null!));
        var noMapping = Options() with { LayerDecay = 0.75 };
        Assert.Contains("maps no parameter", Assert.Throws<TrainerConfigException>(noMapping.Validate).Message);
    }

    [Fact]
    public void APhasesRecipeKeysAreValidatedAndReadLikeTrainKeys()
    {
        var finetune = TrainerKeys.For("finetune");
        var schema = new ConfigSchema(TrainerKeys.All.Concat(finetune.All).Append(finetune.LayerDecay));
        var config = schema.Resolve([KeyValuePair.Create("train.lr", "0.01"), KeyValuePair.Create("finetune.lr", "0.002"), KeyValuePair.Create("finetune.batch_size", "16"),
                                     KeyValuePair.Create("finetune.layer_decay", "0.65")]);
        var first = TrainerOptions.FromConfig(config);
        var second = TrainerOptions.FromConfig(config, finetune);
        Assert.Equal(0.01, first.LearningRate);
        Assert.Equal(0.002, second.LearningRate);
        Assert.Equal(16, second.BatchSize);
        Assert.Equal(0.65, second.LayerDecay);
        Assert.Equal(1, first.LayerDecay);
        var bad = Assert.Throws<ConfigException>(() => schema.Resolve([KeyValuePair.Create("finetune.lr", "fast")]));
        Assert.Contains("finetune.lr", bad.Message);
        Assert.Throws<ConfigException>(() => schema.Resolve([KeyValuePair.Create("finetune.batch_size", "0")]));
        Assert.Throws<ArgumentException>(() => TrainerKeys.For("Fine Tune"));
        Assert.Same(TrainerKeys.Train, TrainerKeys.For("train"));
    }

    [Fact]
    public void TrainSecondsAddUpAcrossAResume()
    {
        using var first = new LocalRunContext(seed: 6);
        first.OnProgress = (p, c) => { if (p.Step == 3) c.Cancel(); };
        var model = TinyTask.Model(6);
        var spec = TinyTask.Spec(model, new SyntheticClassification(32, 4, TrainingSeeds.From(6)));
        Assert.ThrowsAny<OperationCanceledException>(() => new Trainer<TinyBatch>(spec, Options(), first).Run());
        double before = first.Progress[^1].Elapsed.TotalSeconds;
        using var second = new LocalRunContext(first.RunDirectory, seed: 6) { ResumeCheckpoint = first.CheckpointDirectory };
        var result = new Trainer<TinyBatch>(spec, Options(), second).Run();
        Assert.True(result.TrainSeconds >= before, $"train seconds {result.TrainSeconds} < the first session's {before}");
        Assert.True(result.TrainSeconds >= second.Progress[^1].Elapsed.TotalSeconds);   // the last evaluation comes after the last step
    }

    [Fact]
    public void PhasesHaveTheirOwnCheckpointsRowsAndResume()
    {
        // Two phases on one model. The second is cancelled mid-way; a new attempt re-enters phase 1 (its final
        // checkpoint: no step is trained, no row written again) and resumes phase 2, ending where an uninterrupted
        // run ends.
        static Dictionary<string, double[]> RunBoth(LocalRunContext ctx, Action<ProgressInfo, LocalRunContext>? onProgress,
            List<long> stepsTrained)
        {
            ctx.OnProgress = onProgress;
            var model = TinyTask.Model(4);
            var data = new SyntheticClassification(32, 4, TrainingSeeds.From(4));
            var pre = ctx.Phase("pretrain");
            var t1 = new Trainer<TinyBatch>(TinyTask.Spec(model, data), Options(), pre);
            t1.StepCompleted += s => stepsTrained.Add(s.Step);
            t1.Run();
            var t2 = new Trainer<TinyBatch>(TinyTask.Spec(model, data), Options(epochs: 3) with { LearningRate = 0.01 }, ctx.Phase("finetune"));
            t2.StepCompleted += s => stepsTrained.Add(1000 + s.Step);
            t2.Run();
            return TinyTask.Snapshot(model);
        }

        using var whole = new LocalRunContext(seed: 4);
        var expected = RunBoth(whole, null, []);
        Assert.Equal(["pretrain", "pretrain", "finetune", "finetune", "finetune"], whole.Epochs.Select(r => r.Phase));
        Assert.True(Directory.Exists(Path.Combine(whole.CheckpointDirectory, "pretrain")));
        Assert.NotNull(CheckpointStore.FindLatest(Path.Combine(whole.CheckpointDirectory, "finetune")));
        Assert.Null(CheckpointStore.FindLatest(whole.CheckpointDirectory));
        Assert.All(whole.Progress, p => Assert.Contains(p.Phase, new[] { "pretrain", "finetune" }));

        using var killed = new LocalRunContext(seed: 4);
        var firstSteps = new List<long>();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            RunBoth(killed, (p, c) => { if (p.Phase == "finetune" && p.Step == 4) c.Cancel(); }, firstSteps));
        using var again = new LocalRunContext(killed.RunDirectory, seed: 4);
        var secondSteps = new List<long>();
        var resumed = RunBoth(again, null, secondSteps);

        Assert.DoesNotContain(secondSteps, s => s < 1000);                     // phase 1 was not trained again
        Assert.Equal(1005, secondSteps[0]);                                     // phase 2 went on from its step 4
        Assert.All(again.Epochs, r => Assert.Equal("finetune", r.Phase));
        Assert.Equal(whole.Epochs.Select(r => (r.Phase, r.Step)), killed.Epochs.Concat(again.Epochs).Select(r => (r.Phase, r.Step)));
        foreach (var (name, values) in expected) Assert.Equal(values, resumed[name]);
        Assert.Throws<InvalidOperationException>(() => killed.Phase("a").Phase("b"));
    }
}
