using Crate.Core.Training;

namespace Crate.Core.Contract;

/// <summary>
/// Named, ordered phases of one run: a pre-training task trains its encoder (<c>pretrain</c>), then fine-tunes
/// it (<c>finetune</c>), each phase with its own <see cref="Trainer{TBatch}"/>, recipe keys
/// (<see cref="TrainerKeys.For"/>), checkpoint folder and exact resume. A run with one training loop needs none
/// of this: its rows belong to the phase <see cref="Train"/> and its checkpoints lie in the run's checkpoint folder.
/// <code>
/// var pretrain = ctx.Phase("pretrain");                       // checkpoints/pretrain/, rows tagged "pretrain"
/// new Trainer&lt;B&gt;(spec, TrainerOptions.FromConfig(c), pretrain).Run();
/// var finetune = ctx.Phase("finetune");                       // checkpoints/finetune/
/// new Trainer&lt;B&gt;(spec2, TrainerOptions.FromConfig(c, TrainerKeys.For("finetune")), finetune).Run();
/// </code>
/// A process killed during the second phase resumes the second phase: the first one's final checkpoint is at
/// its last step, so its trainer only reloads the trained weights and returns, and its rows are not written again.
/// </summary>
public static class RunPhase
{
    /// <summary>The phase of a run that declares none.</summary>
    public const string Train = "train";

    /// <summary>
    /// A context for phase <paramref name="name"/> of the run <paramref name="run"/> (lower-case letters, digits,
    /// '_' and '-'): checkpoints in <c>&lt;checkpoints&gt;/&lt;name&gt;/</c>, resuming from the newest complete one
    /// there, epoch rows and progress tagged with the phase.
    /// </summary>
    public static PhaseRunContext Phase(this IRunContext run, string name)
    {
        if (run is PhaseRunContext outer)
            throw new InvalidOperationException($"phase '{name}' cannot be started inside phase '{outer.Phase}': start it from the run's own context");
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'))
            throw new ArgumentException($"phase name '{name}' must be lower-case letters, digits, '_' or '-'", nameof(name));
        return new PhaseRunContext(run, name);
    }
}

/// <summary>One phase of a run; see <see cref="RunPhase"/>.</summary>
public sealed class PhaseRunContext : DelegatingRunContext
{
    internal PhaseRunContext(IRunContext run, string phase) : base(run)
    {
        Phase = phase;
        CheckpointDirectory = Path.Combine(run.CheckpointDirectory, phase);
    }

    /// <summary>The phase's name.</summary>
    public override string Phase { get; }

    /// <summary><c>&lt;run checkpoints&gt;/&lt;phase&gt;</c>.</summary>
    public override string CheckpointDirectory { get; }

    /// <summary>The newest complete checkpoint of this phase, or null: a phase resumes where it stopped.</summary>
    public override string? ResumeCheckpoint => CheckpointStore.FindLatest(CheckpointDirectory);

    /// <inheritdoc />
    public override void ReportEpoch(EpochRow row) => base.ReportEpoch(row with { Phase = Phase });

    /// <inheritdoc />
    public override void ReportProgress(ProgressInfo progress) => base.ReportProgress(progress with { Phase = Phase });
}
