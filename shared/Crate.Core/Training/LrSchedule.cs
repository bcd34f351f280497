namespace Crate.Core.Training;

/// <summary>
/// Linear warm-up then cosine decay, evaluated per optimizer step (0-based <c>s</c>), as in nanoGPT's
/// <c>get_lr</c> and the paper's recipes (docs/paper.md §3: "linear warm-up ... then cosine to 0"):
/// <code>
/// s &lt; W :        lr(s) = peak · (s + 1) / W
/// W ≤ s &lt; T :    lr(s) = min + ½ (1 + cos(π · (s − W) / (T − W))) · (peak − min)
/// s ≥ T :        lr(s) = min
/// </code>
/// W = warm-up steps, T = total steps. The first step already gets peak/W, never 0.
/// </summary>
public sealed record LrSchedule(double Peak, double Min, long WarmupSteps, long TotalSteps)
{
    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return Min;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Min + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (Peak - Min);
    }

    /// <summary>
    /// A cosine ramp from <paramref name="start"/> to <paramref name="end"/> over <paramref name="totalSteps"/>
    /// (no warm-up): DINO's schedule for weight decay (0.04 → 0.4) and the teacher momentum (0.996 → 1).
    /// </summary>
    public static double Cosine(double start, double end, long step, long totalSteps)
    {
        double progress = Math.Clamp((double)step / Math.Max(1, totalSteps - 1), 0, 1);
        return end + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (start - end);
    }
}
