using Crate.Core.Training;
using static Crate.Tests.Plugins.Dino.DinoTestSupport;

namespace Crate.Tests.Plugins.Dino;

/// <summary>
/// Cancelled at step k and resumed, a DINO run continues with its teacher, centre, teacher-temperature and
/// momentum schedules exactly where they were: the same per-step losses and bit-identical final student,
/// teacher and centre as a run that was never interrupted.
/// </summary>
public class DinoResumeTests
{
    [Theory]
    [InlineData("crate", 5)]      // inside epoch 1: the last layer still frozen, teacher temperature still warming
    [InlineData("vit", 9)]        // just after the first epoch boundary (8 steps per epoch)
    public void CancelAtStepKThenResumeEqualsTheUninterruptedRun(string model, int k)
    {
        var config = Config("smoke", model, [("dino.warmup_teacher_temp_epochs", "3"), .. TrainingOnly]);
        using var reference = new Crate.Tests.Data.TempDir();
        var (full, fullLocal) = Context(model, config, reference.Path);
        using (fullLocal) TheTask.Run(full);
        var expected = fullLocal.Progress.Select(p => p.Loss).ToArray();
        Assert.Equal(16, expected.Length);

        using var interrupted = new Crate.Tests.Data.TempDir();
        var (first, firstLocal) = Context(model, config, interrupted.Path);
        firstLocal.OnProgress = (p, c) => { if (p.Step == k) c.Cancel(); };
        using (firstLocal) Assert.ThrowsAny<OperationCanceledException>(() => TheTask.Run(first));
        var before = firstLocal.Progress.Select(p => p.Loss).ToArray();
        Assert.Equal(k, before.Length);

        var (second, secondLocal) = Context(model, config, interrupted.Path);
        secondLocal.ResumeCheckpoint = CheckpointStore.FindLatest(secondLocal.CheckpointDirectory);
        Assert.NotNull(secondLocal.ResumeCheckpoint);
        using (secondLocal) TheTask.Run(second);
        var after = secondLocal.Progress.Select(p => p.Loss).ToArray();

        Assert.Equal(expected, before.Concat(after).ToArray());
        string a = CheckpointStore.FindLatest(Path.Combine(reference.Path, "checkpoints"))!;
        string b = CheckpointStore.FindLatest(Path.Combine(interrupted.Path, "checkpoints"))!;
        for (int module = 0; module < 3; module++)                                              // student, teacher, loss (centre)
            Assert.True(File.ReadAllBytes(Path.Combine(a, CheckpointStore.ModuleFile(module)))
                    .SequenceEqual(File.ReadAllBytes(Path.Combine(b, CheckpointStore.ModuleFile(module)))),
                $"module-{module}.bin differs after the resume");
    }
}
