using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Dino;

/// <summary>DINO's recipe values that the shared trainer does not own (main_dino.py's arguments).</summary>
public sealed record DinoRecipe(double StudentTemp, double WarmupTeacherTemp, double TeacherTemp, int WarmupTeacherTempEpochs,
    double MomentumTeacher, double CenterMomentum, int FreezeLastLayerEpochs, double ClipGrad)
{
    /// <summary>Reads the <c>dino.*</c> keys.</summary>
    public static DinoRecipe From(ResolvedConfig config) => new(config.Get(DinoKeys.StudentTemp), config.Get(DinoKeys.WarmupTeacherTemp),
        config.Get(DinoKeys.TeacherTemp), config.GetInt(DinoKeys.WarmupTeacherTempEpochs), config.Get(DinoKeys.MomentumTeacher),
        config.Get(DinoKeys.CenterMomentum), config.GetInt(DinoKeys.FreezeLastLayer), config.Get(DinoKeys.ClipGrad));

    /// <summary>
    /// The trainer's options: the <c>train.*</c> keys, with the peak learning rate <c>train.base_lr · batch / 256</c>
    /// (DINO's linear scaling rule) and the weight decay on its cosine (<c>train.weight_decay</c> → <c>train.weight_decay_end</c>).
    /// </summary>
    public static TrainerOptions Options(ResolvedConfig config)
    {
        var options = TrainerOptions.FromConfig(config);
        double lr = config.Get(DinoKeys.BaseLr) * options.BatchSize / 256.0;
        if (!(lr > 0))
            throw new ConfigException($"config key 'train.base_lr' is {config.Get(DinoKeys.BaseLr)}: the learning rate must be positive");
        if (options.MinLearningRate > lr)
            throw new ConfigException($"config key 'train.min_lr' ({options.MinLearningRate}) exceeds the peak learning rate base_lr·batch/256 = {lr}");
        return options with { LearningRate = lr };
    }
}

/// <summary>
/// One DINO training: the student (trained), the teacher (an EMA of the student, <see cref="TrainingSpec{TBatch}.Frozen"/>)
/// and the loss with its centre (frozen too, so checkpoints carry the centre). Per micro-batch the teacher sees the
/// 2 global crops, the student every crop; before the update each gradient tensor is clipped on its own and the
/// prototype layer's gradient is dropped during the first <c>dino.freeze_last_layer</c> epochs; after it the teacher
/// moves towards the student with the cosine momentum and the centre with the step's teacher outputs. Everything
/// is a function of the step and epoch, so a resumed run continues exactly.
/// </summary>
public sealed class DinoDistillation(DinoNetwork student, DinoNetwork teacher, DinoLoss loss, DinoRecipe recipe)
{
    /// <summary>The student.</summary>
    public DinoNetwork Student => student;

    /// <summary>The teacher.</summary>
    public DinoNetwork Teacher => teacher;

    /// <summary>The loss and its centre.</summary>
    public DinoLoss Loss => loss;

    /// <summary>Copies the student's weights into the teacher (at the start of a fresh run, as DINO's <c>load_state_dict</c>).</summary>
    public void InitializeTeacher()
    {
        using var noGrad = no_grad();
        foreach (var (t, s) in teacher.parameters().Zip(student.parameters())) t.copy_(s);
    }

    /// <summary>The spec for the trainer over <paramref name="data"/> with the per-epoch <paramref name="evaluate"/>.</summary>
    public TrainingSpec<ViewBatch> Spec(IBatchSource<ViewBatch> data, Func<EvalContext, IReadOnlyDictionary<string, double>>? evaluate) => new()
    {
        Trainable = [student],
        Frozen = [teacher, loss],
        Data = data,
        Loss = StepLoss,
        BeforeOptimizerStep = BeforeUpdate,
        AfterStep = AfterUpdate,
        Evaluate = evaluate,
    };

    /// <summary>The loss of one micro-batch; records teacher_entropy, marginal_entropy, kl and teacher_temp.</summary>
    public Tensor StepLoss(ViewBatch batch, StepContext ctx)
    {
        if (batch.Views.Count < 2) throw new ArgumentException($"DINO needs 2 global crops and any local ones; the batch has {batch.Views.Count} view(s)");
        if (ctx.MicroBatch == 0) loss.DiscardPending();
        double temperature = DinoSchedules.TeacherTemperature(ctx.Position.Epoch, recipe.WarmupTeacherTemp, recipe.TeacherTemp, recipe.WarmupTeacherTempEpochs);
        Tensor teacherOut;
        using (no_grad()) teacherOut = teacher.Forward([batch.Views[0], batch.Views[1]]);   // [2B, K]
        var studentOut = student.Forward(batch.Views);                                       // [V·B, K]
        var value = loss.Compute(studentOut, teacherOut, temperature);
        ctx.Record("teacher_entropy", value.TeacherEntropy);
        ctx.Record("marginal_entropy", value.MarginalEntropy);
        ctx.Record("kl", value.Kl);
        ctx.Record("teacher_temp", temperature);
        return value.Loss;
    }

    /// <summary>DINO's <c>clip_gradients</c> (each tensor's norm to at most clip) and <c>cancel_gradients_last_layer</c>.</summary>
    public void BeforeUpdate(StepContext ctx)
    {
        if (recipe.ClipGrad > 0)
            using (no_grad())
                foreach (var p in student.parameters())
                    if (p.grad is { } g)
                    {
                        using var scope = NewDisposeScope();
                        g.mul_((recipe.ClipGrad / (g.norm() + 1e-6)).clamp_max(1.0));
                    }
        if (ctx.Position.Epoch < recipe.FreezeLastLayerEpochs)
            foreach (var p in student.Head.LastLayer.parameters()) p.grad = null;   // no update at all, as DINO's p.grad = None
    }

    /// <summary>Teacher ← m·teacher + (1 − m)·student with m on DINO's cosine from momentum_teacher to 1; then the centre update.</summary>
    public void AfterUpdate(StepContext ctx)
    {
        double m = DinoSchedules.TeacherMomentum(ctx.Step, ctx.TotalSteps, recipe.MomentumTeacher);
        using (no_grad())
            foreach (var (t, s) in teacher.parameters().Zip(student.parameters()))
                t.mul_(m).add_(s.detach(), alpha: 1 - m);
        loss.UpdateCenter();
    }
}
