using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Dino;

/// <summary>The numbers of one DINO loss evaluation: the loss (with its graph) and the collapse monitors.</summary>
/// <param name="Loss">Mean over (teacher view, other student view) pairs of the cross-entropy, a scalar with gradient.</param>
/// <param name="TeacherEntropy">Mean entropy of the teacher's distributions (nats); near log K: uniform collapse.</param>
/// <param name="MarginalEntropy">Entropy of the mean teacher distribution over the batch (nats); near 0: every image on one prototype.</param>
/// <param name="Kl">Mean KL(teacher ‖ student) over the pairs = loss − teacher entropy; near 0 with either collapse.</param>
public sealed record DinoLossValue(Tensor Loss, double TeacherEntropy, double MarginalEntropy, double Kl);

/// <summary>
/// DINO's loss (<c>DINOLoss</c> in main_dino.py) with its centre as a module buffer (<c>center</c> [1, K]), so
/// checkpoints carry it. Teacher distribution of global view i: softmax((t_i − c)/τ_t); student distribution of
/// view v: softmax(s_v/τ_s); loss = mean over the pairs (i, v), v ≠ i, of Σ_k −P_t,i[k]·log P_s,v[k], averaged over
/// the batch. The centre moves once per optimizer step with the mean teacher output of that whole step (every
/// micro-batch): c ← m·c + (1 − m)·mean(t), as DINO's update over its full (all-GPU) batch.
/// </summary>
public sealed class DinoLoss : nn.Module
{
    private readonly Tensor center;
    private Tensor? _pendingSum;       // Σ teacher outputs of the step so far [1, K]; never checkpointed (steps are atomic)
    private long _pendingRows;

    /// <summary>A loss over <paramref name="outDim"/> prototypes with student temperature <paramref name="studentTemp"/> and centre momentum <paramref name="centerMomentum"/>.</summary>
    public DinoLoss(int outDim, double studentTemp, double centerMomentum) : base(nameof(DinoLoss))
    {
        StudentTemp = studentTemp;
        CenterMomentum = centerMomentum;
        center = zeros(1, outDim);
        RegisterComponents();
    }

    /// <summary>The student temperature τ_s.</summary>
    public double StudentTemp { get; }

    /// <summary>The centre's EMA momentum.</summary>
    public double CenterMomentum { get; }

    /// <summary>The centre [1, K] (the buffer itself).</summary>
    public Tensor Center => center;

    /// <summary>
    /// The loss of student outputs <paramref name="student"/> [V·B, K] (crop-major, the 2 global crops first) against
    /// teacher outputs <paramref name="teacher"/> [2·B, K] at teacher temperature <paramref name="teacherTemp"/>.
    /// The teacher outputs are added to the step's centre update (see <see cref="UpdateCenter"/>).
    /// </summary>
    public DinoLossValue Compute(Tensor student, Tensor teacher, double teacherTemp)
    {
        long rows = teacher.shape[0];
        if (rows % 2 != 0 || student.shape[0] % (rows / 2) != 0 || student.shape[0] / (rows / 2) < 2)
            throw new ArgumentException($"teacher outputs [{string.Join(", ", teacher.shape)}] must be 2 views of the student's batch [{string.Join(", ", student.shape)}]");
        long batch = rows / 2;
        int views = (int)(student.shape[0] / batch);
        using var scope = NewDisposeScope();
        var logStudent = nn.functional.log_softmax(student / StudentTemp, -1).chunk(views);          // V × [B, K]
        Tensor teacherLogits, logTeacher, pTeacher;
        using (no_grad())
        {
            teacherLogits = (teacher.detach() - center) / teacherTemp;                                 // [2B, K]
            logTeacher = nn.functional.log_softmax(teacherLogits, -1);
            pTeacher = logTeacher.exp();                                                               // [2B, K]
        }
        var targets = pTeacher.chunk(2);                                                               // 2 × [B, K]
        Tensor total = zeros(1, device: student.device);
        int terms = 0;
        for (int iq = 0; iq < 2; iq++)
            for (int v = 0; v < views; v++)
            {
                if (v == iq) continue;                                                                 // the same view: skipped
                total = total + (-targets[iq] * logStudent[v]).sum(-1).mean();
                terms++;
            }
        var loss = (total / terms).squeeze();
        double lossValue = loss.ToDouble();
        double entropy = (-(pTeacher * logTeacher).sum(-1)).mean().ToDouble();
        var marginal = pTeacher.mean([0]);                                                             // [K]
        double marginalEntropy = (-(marginal * marginal.clamp_min(1e-30).log()).sum()).ToDouble();
        AddToStep(teacher);
        return new DinoLossValue(loss.MoveToOuterDisposeScope(), entropy, marginalEntropy, lossValue - entropy);
    }

    private void AddToStep(Tensor teacher)
    {
        using var noGrad = no_grad();
        var sum = teacher.detach().sum(0, keepdim: true);                                              // [1, K]
        if (_pendingSum is null) _pendingSum = sum.clone().DetachFromDisposeScope();
        else _pendingSum.add_(sum);
        _pendingRows += teacher.shape[0];
    }

    /// <summary>c ← m·c + (1 − m)·(mean of every teacher output since the last update); call once per optimizer step.</summary>
    public void UpdateCenter()
    {
        if (_pendingSum is null) return;
        using (no_grad())
        {
            using var mean = _pendingSum / _pendingRows;
            center.mul_(CenterMomentum).add_(mean, alpha: 1 - CenterMomentum);
        }
        _pendingSum.Dispose();
        _pendingSum = null;
        _pendingRows = 0;
    }

    /// <summary>Drops teacher outputs added since the last update (a step that did not finish).</summary>
    public void DiscardPending()
    {
        _pendingSum?.Dispose();
        _pendingSum = null;
        _pendingRows = 0;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing) DiscardPending();
        base.Dispose(disposing);
    }
}

/// <summary>DINO's schedules that the trainer does not own: the teacher temperature per epoch and the teacher momentum per step.</summary>
public static class DinoSchedules
{
    /// <summary>
    /// The teacher temperature of 0-based <paramref name="epoch"/>: <c>np.linspace(warmup, final, warmupEpochs)[epoch]</c>
    /// during the warm-up, then <paramref name="final"/> (main_dino.py's <c>teacher_temp_schedule</c>).
    /// </summary>
    public static double TeacherTemperature(int epoch, double warmup, double final, int warmupEpochs)
    {
        if (epoch >= warmupEpochs) return final;
        if (warmupEpochs == 1) return warmup;
        return warmup + (final - warmup) * epoch / (warmupEpochs - 1);
    }

    /// <summary>
    /// The teacher EMA momentum after 0-based step <paramref name="step"/> of <paramref name="totalSteps"/>: DINO's
    /// <c>cosine_scheduler(base, 1, ...)</c>, 1 − (1 − base)·(1 + cos(π·step/total))/2.
    /// </summary>
    public static double TeacherMomentum(long step, long totalSteps, double momentum) =>
        1 - (1 - momentum) * (1 + Math.Cos(Math.PI * step / Math.Max(1, totalSteps))) / 2;
}
