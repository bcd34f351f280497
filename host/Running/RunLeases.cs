using Crate.Core.Runtime;
using Crate.Host.Planning;
using Crate.Results;

namespace Crate.Host.Running;

/// <summary>
/// One attempt per run: before a run trains, the process that trains it (the <c>reproduce</c> process itself, or with
/// <c>--jobs N</c> the run's job process) takes an exclusive <see cref="FileLease"/> on it in
/// <c>&lt;out&gt;/leases/&lt;run key&gt;/</c>, renews its heartbeat every tenth of the stale timeout
/// (<c>--lease-timeout</c>, default <see cref="DefaultStaleAfter"/>) and releases it on every way out (the run ends,
/// fails, Ctrl-C, SIGTERM, a second signal, process exit; a job process that was killed is released by its parent).
/// A second attempt (another <c>reproduce</c> on the same folder, a requeued Slurm task beside the old one, a replacement
/// pod) finds the lease alive and skips the run with one line naming the holder, or with <c>--wait</c> waits for it and
/// then skips it when finished or resumes it. A lease whose holder is gone (same machine: its process ended) or silent
/// past the timeout (another host) is taken over, with a line saying so. A holder that lost its lease that way (it
/// stalled) finds out at its next heartbeat or checkpoint (<see cref="Core.Training.CheckpointFence"/>) and stops
/// without writing. The parent of <c>--jobs</c> only looks at leases (to skip a busy run without starting a process).
/// </summary>
public static class RunLeases
{
    /// <summary>The folder of the run leases inside the output folder.</summary>
    public const string FolderName = "leases";

    /// <summary>A lease whose last heartbeat is older than this is stale (another host; on the same machine a gone process is stale at once).</summary>
    public static readonly TimeSpan DefaultStaleAfter = TimeSpan.FromMinutes(5);

    /// <summary>How often a waiting attempt (<c>--wait</c>) looks at the leases it waits for.</summary>
    public static readonly TimeSpan WaitPoll = TimeSpan.FromSeconds(1);

    /// <summary>The lease folder of run <paramref name="key"/>.</summary>
    public static string Folder(string outDirectory, string key) => Path.Combine(outDirectory, FolderName, key);

    /// <summary>
    /// Takes the lease of <paramref name="run"/>; prints a line when it took over a stale one. Null when another live
    /// attempt holds it, described by <paramref name="holder"/>.
    /// </summary>
    public static FileLease? Take(RunnerOptions options, PlannedRun run, IRunProgress progress, out LeaseView? holder)
    {
        var lease = FileLease.TryAcquire(Folder(options.OutDirectory, run.Key),
            new LeaseOptions($"reproduce {run.Label} (run {run.Key})", options.LeaseStaleAfter), out holder, out var stale);
        if (stale is not null)
            progress.Message($"[lease] {run.Label}: took over the stale lease of {stale.Describe()} ({stale.Reason})");
        return lease;
    }

    /// <summary>The live holder of <paramref name="run"/>'s lease, or null when it is free (or stale: the next attempt takes it).</summary>
    public static LeaseView? Holder(RunnerOptions options, PlannedRun run) =>
        FileLease.Peek(Folder(options.OutDirectory, run.Key), options.LeaseStaleAfter) is { Status: LeaseStatus.Alive } view ? view : null;

    /// <summary>The Busy outcome of a run another attempt holds, and its one line.</summary>
    public static RunOutcome Busy(RunnerOptions options, PlannedRun run, LeaseView holder, IRunProgress progress)
    {
        var who = holder.Describe();
        progress.Message(options.Wait
            ? $"[wait] {run.Label}: another attempt runs it ({who}); waiting for it (--wait)"
            : $"[busy] {run.Label}: skipped, another attempt runs it ({who}); rerun once it ends, or add --wait");
        return new(run, RunOutcomeKind.Busy, $"another attempt runs it ({who})", TimeSpan.Zero, false);
    }

    /// <summary>
    /// At the end of a plan: a run skipped as busy that the other attempt has finished meanwhile counts as skipped
    /// (finished), with a line; any other outcome is returned as it is.
    /// </summary>
    public static RunOutcome Settle(RunOutcome outcome, ResultsStore store, IRunProgress progress)
    {
        if (outcome.Kind != RunOutcomeKind.Busy || store.GetRun(outcome.Run.Key) is not { Status: RunStatus.Finished }) return outcome;
        progress.Message($"[skip] {outcome.Run.Label}: finished by the other attempt (run {outcome.Run.Key})");
        return outcome with { Kind = RunOutcomeKind.Skipped, Error = null };
    }
}
