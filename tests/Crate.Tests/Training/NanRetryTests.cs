using Crate.Core.Training;

namespace Crate.Tests.Training;

/// <summary>
/// The NaN guard and <see cref="TrainerOptions.NanRetries"/>: a loss that turns NaN stops the run with the step and
/// the last finite loss; with retries the trainer rolls back to the last good checkpoint and halves the learning rate.
/// 40 samples, batch 8 (micro 4) → 5 steps per epoch, 3 epochs = 15 steps.
/// </summary>
public class NanRetryTests
{
    private static TrainerOptions Options(int retries, long checkpointEvery = 2) => new()
    {
        Optimizer = OptimizerKind.AdamW, LearningRate = 0.05, MinLearningRate = 0.005, WarmupSteps = 2, WeightDecay = 0.01,
        GradClip = 1.0, BatchSize = 8, MicroBatchSize = 4, Epochs = 3, CheckpointEverySteps = checkpointEvery, NanRetries = retries,
    };

    /// <summary>The tiny task whose loss is NaN at 0-based step <paramref name="nanStep"/> on the first <paramref name="poisonedAttempts"/> passes over it.</summary>
    private static TrainingSpec<TinyBatch> Poisoned(int seed, long nanStep, int poisonedAttempts)
    {
        var model = TinyTask.Model(seed, 0.1);
        var spec = TinyTask.Spec(model, new SyntheticClassification(40, 4, TrainingSeeds.From(seed)));
        int poisoned = 0;
        return new TrainingSpec<TinyBatch>
        {
            Trainable = spec.Trainable, Data = spec.Data, Evaluate = spec.Evaluate,
            Loss = (b, s) =>
            {
                if (s.Step != nanStep || s.MicroBatch != 1 || poisoned >= poisonedAttempts) return spec.Loss(b, s);
                poisoned++;
                return spec.Loss(b, s) * double.NaN;
            },
        };
    }

    [Fact]
    public void WithoutRetriesTheRunStopsAtOnceWithTheStepAndTheLastFiniteLoss()
    {
        using var ctx = new LocalRunContext(seed: 2);
        var trainer = new Trainer<TinyBatch>(Poisoned(2, nanStep: 6, poisonedAttempts: 1), Options(retries: 0), ctx);
        var losses = new Dictionary<long, double>();
        trainer.StepCompleted += r => losses[r.Step] = r.Loss;

        var e = Assert.Throws<NonFiniteLossException>(() => trainer.Run());
        Assert.Equal(6, e.Step);
        Assert.Equal(losses[6], e.LastFiniteLoss);                           // the mean loss of step 6, the last one applied
        Assert.Equal(6, losses.Keys.Max());
        Assert.Contains("at step 7 of 15", e.Message);
        Assert.Contains($"Last finite loss: {losses[6].ToString("G6", System.Globalization.CultureInfo.InvariantCulture)} (step 6)", e.Message);
        Assert.Equal(0, e.Retries);
        Assert.EndsWith("step-0000000006", e.LastCheckpoint);
    }

    [Fact]
    public void ARollbackReloadsTheLastCheckpointHalvesTheLearningRateAndIsRecorded()
    {
        using var ctx = new LocalRunContext(seed: 2);
        var trainer = new Trainer<TinyBatch>(Poisoned(2, nanStep: 5, poisonedAttempts: 1), Options(retries: 2), ctx);
        var reports = new List<StepReport>();
        trainer.StepCompleted += reports.Add;

        var result = trainer.Run();

        Assert.Equal(15, result.Steps);
        var retry = Assert.Single(result.NanRetries);
        Assert.Equal(new NanRetry(1, 6, "loss", reports.First(r => r.Step == 5).Loss, 5,
            Path.Combine(ctx.CheckpointDirectory, "step-0000000005"), 0.5), retry);
        // Steps 1-5 ran (an evaluation and checkpoint at 5, the epoch end), step 6 failed, the run went back to the
        // step-5 checkpoint and did steps 6-15 at half the scheduled rate.
        Assert.Equal(Enumerable.Range(1, 15), reports.Select(r => (int)r.Step));
        var schedule = trainer.Schedule;
        foreach (var r in reports)
            Assert.Equal(schedule.At(r.Step - 1) * (r.Step <= 5 ? 1 : 0.5), r.LearningRate, 12);
        // Rows at the epoch ends 5, 10, 15; those after the rollback carry it.
        Assert.Equal([5L, 10L, 15L], result.Rows.Select(r => r.Step));
        Assert.False(result.Rows[0].Metrics.ContainsKey("nan_retries"));
        Assert.All(result.Rows.Skip(1), r => Assert.Equal((1.0, 0.5), (r.Metrics["nan_retries"], r.Metrics["lr_scale"])));
        Assert.Equal(1, result.FinalMetrics["nan_retries"]);
    }

    [Fact]
    public void ALossThatStaysNaNStopsAfterTheAllowedRollbacksEvenWithoutANewCheckpoint()
    {
        // NaN at step 2 (0-based 1) on every pass, evaluation only at epoch ends: the only checkpoint is the one the
        // trainer writes at step 0 for rollbacks, so each rollback goes back to the start.
        using var ctx = new LocalRunContext(seed: 3);
        var trainer = new Trainer<TinyBatch>(Poisoned(3, nanStep: 1, poisonedAttempts: int.MaxValue), Options(retries: 3, checkpointEvery: 0), ctx);

        var e = Assert.Throws<NonFiniteLossException>(() => trainer.Run());

        Assert.Equal(3, e.Retries);
        Assert.Equal(0.125, e.LearningRateScale);
        Assert.Equal([1, 2, 3], e.History.Select(h => h.Attempt));
        Assert.All(e.History, h => Assert.Equal((2L, 0L), (h.FailedStep, h.ResumedStep)));
        Assert.Equal([0.5, 0.25, 0.125], e.History.Select(h => h.LearningRateScale));
        Assert.Contains("after 3 rollback(s)", e.Message);
        Assert.EndsWith("step-0000000000", e.LastCheckpoint);
    }

    [Fact]
    public void TheRollbacksSurviveACheckpointAndAResume()
    {
        // Rollback at step 6, then cancel at step 9: the resumed run keeps the halved rate and the rollback in its rows.
        using var first = new LocalRunContext(seed: 4);
        var trainer = new Trainer<TinyBatch>(Poisoned(4, nanStep: 5, poisonedAttempts: 1), Options(retries: 1), first);
        trainer.StepCompleted += r => { if (r.Step == 9 && r.LearningRate < trainer.Schedule.At(8)) first.Cancel(); };
        Assert.ThrowsAny<OperationCanceledException>(() => trainer.Run());

        using var second = new LocalRunContext(first.RunDirectory, seed: 4) { ResumeCheckpoint = first.CheckpointDirectory };
        var resumed = new Trainer<TinyBatch>(Poisoned(4, nanStep: 5, poisonedAttempts: 0), Options(retries: 1), second);
        var rates = new List<(long Step, double Lr)>();
        resumed.StepCompleted += r => rates.Add((r.Step, r.LearningRate));
        var result = resumed.Run();

        Assert.Equal(10, rates[0].Step);
        Assert.All(rates, r => Assert.Equal(resumed.Schedule.At(r.Step - 1) * 0.5, r.Lr, 12));
        Assert.Equal(6, Assert.Single(result.NanRetries).FailedStep);
        Assert.Equal(1, result.FinalMetrics["nan_retries"]);
    }
}
