using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Training;

/// <summary>The trainer end to end on a tiny CPU model: accumulation, exact resume, NaN guard, memory, progress.</summary>
public class TrainerTests
{
    private static TrainerOptions Options(int batch = 8, int? micro = 4, int epochs = 3, OptimizerKind optimizer = OptimizerKind.AdamW) => new()
    {
        Optimizer = optimizer, LearningRate = 0.05, MinLearningRate = 0.005, WarmupSteps = 2, WeightDecay = 0.01,
        GradClip = 1.0, BatchSize = batch, MicroBatchSize = micro, Epochs = epochs,
    };

    private static (TinyClassifier Model, TrainingSpec<TinyBatch> Spec) Task(int seed, int microBatch, int samples = 40, double dropout = 0.1)
    {
        var model = TinyTask.Model(seed, dropout);
        var data = new SyntheticClassification(samples, microBatch, TrainingSeeds.From(seed));
        return (model, TinyTask.Spec(model, data));
    }

    [Fact]
    public void AccumulatedMicroBatchesGiveTheSameUpdateAsOneBatch()
    {
        // 1 × 8 and 4 × 2 see the same 8 samples per step (the permutation is over samples, not batches).
        // Dropout off and no masking, so only the summation order differs.
        Dictionary<string, double[]> Train(int micro)
        {
            using var ctx = new LocalRunContext();
            var model = TinyTask.Model(5, dropout: 0);
            var data = new SyntheticClassification(32, micro, TrainingSeeds.From(5), jitter: false);
            var spec = TrainingSpec.ForModel(model, data, (b, _) => Losses.CrossEntropy(model.forward(b.X), b.Y));
            new Trainer<TinyBatch>(spec, Options(batch: 8, micro: micro, epochs: 1) with { GradClip = 0 }, ctx).Run();
            return TinyTask.Snapshot(model);
        }
        var whole = Train(8);
        var accumulated = Train(2);
        var initial = TinyTask.Snapshot(TinyTask.Model(5, dropout: 0));
        foreach (var (name, values) in whole)
            for (int i = 0; i < values.Length; i++)
            {
                Assert.True(Math.Abs(values[i] - accumulated[name][i]) < 1e-5, $"{name}[{i}]: {values[i]} vs {accumulated[name][i]}");
                Assert.NotEqual(initial[name][i], values[i]);   // it trained
            }
    }

    [Theory]
    [InlineData(OptimizerKind.AdamW, 7)]
    [InlineData(OptimizerKind.Lion, 5)]
    public void ResumeAfterCancelReproducesTheUninterruptedRunExactly(OptimizerKind optimizer, int cancelAtStep)
    {
        var options = Options(optimizer: optimizer) with { LearningRate = optimizer == OptimizerKind.Lion ? 0.005 : 0.05 };

        using var full = new LocalRunContext(seed: 11);
        var (fullModel, fullSpec) = Task(11, 4);
        var fullResult = new Trainer<TinyBatch>(fullSpec, options, full).Run();
        Assert.Equal(15, fullResult.Steps);                                  // 40 samples / 8 per step × 3 epochs

        using var first = new LocalRunContext(seed: 11);
        first.OnProgress = (p, c) => { if (p.Step == cancelAtStep) c.Cancel(); };
        var (_, firstSpec) = Task(11, 4);
        var cancelled = Assert.Throws<OperationCanceledException>(() => new Trainer<TinyBatch>(firstSpec, options, first).Run());
        Assert.Contains($"step {cancelAtStep}/15", cancelled.Message);

        using var second = new LocalRunContext(seed: 11) { ResumeCheckpoint = first.CheckpointDirectory };
        var (resumedModel, resumedSpec) = Task(11, 4);                       // fresh init, overwritten by the checkpoint
        var resumedResult = new Trainer<TinyBatch>(resumedSpec, options, second).Run();

        var curve = first.Progress.Concat(second.Progress).Select(p => (p.Step, p.Loss, p.LearningRate)).ToList();
        Assert.Equal(full.Progress.Select(p => (p.Step, p.Loss, p.LearningRate)).ToList(), curve);
        Assert.Equal(TinyTask.Snapshot(fullModel), TinyTask.Snapshot(resumedModel));
        string[] exact = ["train_loss", "grad_norm", "lr", "val_loss", "val_acc"];
        Assert.Equal(fullResult.Rows.Select(r => (r.Epoch, r.Step)), resumedResult.Rows.Select(r => (r.Epoch, r.Step)));
        for (int i = 0; i < fullResult.Rows.Count; i++)
            Assert.Equal(exact.Select(k => fullResult.Rows[i].Metrics[k]), exact.Select(k => resumedResult.Rows[i].Metrics[k]));
        Assert.Equal(3, resumedResult.Rows.Count);
    }

    [Fact]
    public void CancelDuringEvaluationRunsItAgainOnResume()
    {
        var options = Options();
        using var full = new LocalRunContext(seed: 4);
        var fullResult = new Trainer<TinyBatch>(Task(4, 4).Spec, options, full).Run();

        using var first = new LocalRunContext(seed: 4);
        var (model, spec) = Task(4, 4);
        int evaluations = 0;
        var cancelling = new TrainingSpec<TinyBatch>
        {
            Trainable = spec.Trainable, Data = spec.Data, Loss = spec.Loss,
            Evaluate = ctx => { if (++evaluations == 2) first.Cancel(); return spec.Evaluate!(ctx); },
        };
        Assert.Throws<OperationCanceledException>(() => new Trainer<TinyBatch>(cancelling, options, first).Run());
        Assert.Single(first.Epochs);

        using var second = new LocalRunContext(seed: 4) { ResumeCheckpoint = first.CheckpointDirectory };
        var resumed = new Trainer<TinyBatch>(Task(4, 4).Spec, options, second).Run();
        Assert.Equal(fullResult.Rows.Select(r => r.Metrics["val_loss"]), resumed.Rows.Select(r => r.Metrics["val_loss"]));
        Assert.Equal(fullResult.Rows.Select(r => r.Metrics["train_loss"]), resumed.Rows.Select(r => r.Metrics["train_loss"]));
    }

    [Fact]
    public void NonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        using var ctx = new LocalRunContext(seed: 2);
        var (model, spec) = Task(2, 4);
        var poisoned = new TrainingSpec<TinyBatch>
        {
            Trainable = spec.Trainable, Data = spec.Data,
            Loss = (b, s) => s.Step == 4 && s.MicroBatch == 1 ? spec.Loss(b, s) * double.NaN : spec.Loss(b, s),
        };
        var options = Options() with { CheckpointEverySteps = 2 };
        var trainer = new Trainer<TinyBatch>(poisoned, options, ctx);
        var before = new Dictionary<string, double[]>();
        trainer.StepCompleted += r => { if (r.Step == 4) foreach (var kv in TinyTask.Snapshot(model)) before[kv.Key] = kv.Value; };

        var e = Assert.Throws<NonFiniteLossException>(() => trainer.Run());
        Assert.Equal("loss", e.Quantity);
        Assert.Equal(4, e.Step);
        Assert.Contains("at step 5 of 15", e.Message);
        Assert.Contains("train.grad_clip", e.Message);
        Assert.EndsWith("step-0000000004", e.LastCheckpoint);
        Assert.Equal(e.LastCheckpoint, CheckpointStore.FindLatest(ctx.CheckpointDirectory));
        Assert.Equal(before, TinyTask.Snapshot(model));                      // the failed update was not applied
    }

    [Fact]
    public void NonFiniteGradientNormStopsTheRun()
    {
        using var ctx = new LocalRunContext(seed: 2);
        var (model, spec) = Task(2, 4);
        var poisoned = new TrainingSpec<TinyBatch>
        {
            Trainable = spec.Trainable, Data = spec.Data,
            // sqrt at 0 has an infinite derivative: the loss is finite, its gradient is NaN.
            Loss = (b, s) => s.Step == 1 ? spec.Loss(b, s) + (model.parameters().First() * 0).sum().sqrt() : spec.Loss(b, s),
        };
        var e = Assert.Throws<NonFiniteLossException>(() => new Trainer<TinyBatch>(poisoned, Options(), ctx).Run());
        Assert.Equal("gradient norm", e.Quantity);
        Assert.Equal(1, e.Step);
    }

    [Fact]
    public void LiveTensorCountStaysFlatOverManySteps()
    {
        using var ctx = new LocalRunContext(seed: 3);
        var (_, spec) = Task(3, 4, samples: 80);
        var trainer = new Trainer<TinyBatch>(spec, Options(epochs: 4), ctx);    // 40 steps, 4 evaluations and checkpoints
        var live = new Dictionary<long, long>();
        trainer.StepCompleted += r => live[r.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        trainer.Run();
        Assert.Equal(40, live.Count);
        Assert.Equal(live[5], live[40]);
        Assert.Equal(live[5], live[21]);                                         // after two evaluations and checkpoints
    }

    [Fact]
    public void ReportsProgressEveryStepAndARowPerEpoch()
    {
        using var ctx = new LocalRunContext(seed: 9);
        var (_, spec) = Task(9, 4);
        var result = new Trainer<TinyBatch>(spec, Options() with { BestMetric = "val_loss", HigherIsBetter = false }, ctx).Run();
        Assert.Equal(Enumerable.Range(1, 15).Select(i => (long)i), ctx.Progress.Select(p => p.Step));
        Assert.All(ctx.Progress, p =>
        {
            Assert.Equal(15, p.TotalSteps);
            Assert.True(double.IsFinite(p.Loss) && p.SamplesPerSecond > 0 && p.Elapsed > TimeSpan.Zero);
            Assert.NotNull(p.Eta);
        });
        Assert.Equal([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3], ctx.Progress.Select(p => p.Epoch));
        Assert.Equal(TimeSpan.Zero, ctx.Progress[^1].Eta);
        Assert.Equal([(1, 5L), (2, 10L), (3, 15L)], ctx.Epochs.Select(r => (r.Epoch, r.Step)));
        Assert.Equal(ctx.Epochs.Min(r => r.Metrics["val_loss"]), result.BestValue);
        Assert.True(File.Exists(Path.Combine(result.BestCheckpoint!, "module-0.bin")));
        Assert.True(ctx.Epochs[^1].Metrics["val_loss"] < ctx.Epochs[0].Metrics["val_loss"] + 0.5);
        Assert.Equal(2, Directory.GetDirectories(ctx.CheckpointDirectory, "step-*").Length);   // the newest two are kept
    }

    [Fact]
    public void AFinishedRunResumesToTheSameResultWithoutTraining()
    {
        using var ctx = new LocalRunContext(seed: 6);
        var first = new Trainer<TinyBatch>(Task(6, 4).Spec, Options(epochs: 1), ctx).Run();
        ctx.ResumeCheckpoint = ctx.CheckpointDirectory;
        var (model, spec) = Task(6, 4);
        var again = new Trainer<TinyBatch>(spec, Options(epochs: 1), ctx).Run();
        Assert.Equal(first.Steps, again.Steps);
        Assert.Equal(first.FinalMetrics, again.FinalMetrics);
        Assert.Equal(5, ctx.Progress.Count);                                   // no new steps
    }

    [Fact]
    public void AFreshRunRefusesToOverwriteExistingCheckpoints()
    {
        using var ctx = new LocalRunContext(seed: 6);
        new Trainer<TinyBatch>(Task(6, 4).Spec, Options(epochs: 1), ctx).Run();
        var e = Assert.Throws<TrainerConfigException>(() => new Trainer<TinyBatch>(Task(6, 4).Spec, Options(epochs: 1), ctx).Run());
        Assert.Contains("no resume was asked for", e.Message);
    }

    [Fact]
    public void ResumingWithAnotherRecipeIsRefused()
    {
        using var ctx = new LocalRunContext(seed: 6);
        new Trainer<TinyBatch>(Task(6, 4).Spec, Options(epochs: 1), ctx).Run();
        ctx.ResumeCheckpoint = ctx.CheckpointDirectory;
        var e = Assert.Throws<TrainerConfigException>(() =>
            new Trainer<TinyBatch>(Task(6, 2).Spec, Options(epochs: 1) with { MicroBatchSize = 2 }, ctx).Run());
        Assert.Contains("micro-batch size = 4, this run has 2", e.Message);
    }

    [Fact]
    public void AfterStepHookUpdatesAFrozenEmaTeacherThatIsCheckpointed()
    {
        using var ctx = new LocalRunContext(seed: 8);
        var (student, spec) = Task(8, 4);
        var teacher = TinyTask.Model(8);
        var withTeacher = new TrainingSpec<TinyBatch>
        {
            Trainable = [student], Frozen = [teacher], Data = spec.Data, Loss = spec.Loss,
            AfterStep = s =>
            {
                foreach (var (t, p) in teacher.parameters().Zip(student.parameters()))
                    t.mul_(0.9).add_(p.detach(), alpha: 0.1);
            },
        };
        new Trainer<TinyBatch>(withTeacher, Options(epochs: 1), ctx).Run();
        Assert.All(teacher.parameters(), p => Assert.False(p.requires_grad));
        var restored = TinyTask.Model(1);
        ModuleState.Load(restored, Path.Combine(CheckpointStore.FindLatest(ctx.CheckpointDirectory)!, CheckpointStore.ModuleFile(1)));
        Assert.Equal(TinyTask.Snapshot(teacher), TinyTask.Snapshot(restored));
        Assert.NotEqual(TinyTask.Snapshot(student), TinyTask.Snapshot(teacher));
    }
}
