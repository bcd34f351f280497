using System.Diagnostics;
using Crate.Core.Runtime;
using Crate.Host.Planning;
using Crate.Results;

namespace Crate.Host.Running;

/// <summary>
/// Runs a plan N runs at a time (<c>reproduce --jobs N</c>): each run in a job process, the same host started with the
/// internal <c>--run-key</c> and its share of the threads, which runs that one run through <see cref="PlanRunner"/> and
/// streams its progress back over <see cref="JobChannel"/>. Finished runs are skipped here without a process; a run
/// that fails (or whose process dies) is recorded and the other jobs go on; <see cref="StopAll"/> (Ctrl-C, SIGTERM)
/// stops every job at its next step boundary with a checkpoint and starts no more; a full disk stops the plan as with
/// one job. The job process takes the run's lease (<see cref="RunLeases"/>), as the process that trains; this pool only
/// looks at it, to skip (or with <c>--wait</c> come back to) a run another attempt holds without starting a process,
/// and releases the lease of a job process that died without releasing it (killed, crashed).
/// </summary>
/// <remarks>
/// Processes rather than threads: libtorch's default random generator is process-wide (model init, dropout and the
/// trainer's per-step reseeding draw from it), so two runs on two threads of one process would draw each other's
/// numbers and give results that depend on timing; in a process of its own a run gives the same numbers as with
/// <c>--jobs 1</c>. The intra-op thread count alone would allow threads (OpenMP's is per calling thread).
/// </remarks>
public sealed class JobPool(ResultsStore store, RunnerOptions options, ProgressView progress, TextWriter errors, int jobs,
    Func<PlannedRun, ProcessStartInfo> startInfo)
{
    private const int KeptErrorLines = 20;
    private readonly object _gate = new();
    private readonly Dictionary<Process, PlannedRun> _active = [];
    private readonly List<int> _waiting = [];
    private bool _stopping;
    private string? _diskFull;

    /// <summary>Runs the plan; returns one outcome per planned run, in plan order.</summary>
    /// <exception cref="DiskFullException">The output folder's device filled up; every job stopped.</exception>
    public IReadOnlyList<RunOutcome> Run(IReadOnlyList<PlannedRun> plan, CancellationToken cancellation)
    {
        var outcomes = new RunOutcome[plan.Count];
        int next = -1;
        using var onCancel = cancellation.Register(StopAll);
        var workers = Enumerable.Range(0, Math.Clamp(jobs, 1, Math.Max(1, plan.Count))).Select(slot => new Thread(() =>
        {
            var view = progress.Job(slot);
            for (int i; (i = Interlocked.Increment(ref next)) < plan.Count;)
                Guarded(i, plan, outcomes, view);
            // --wait: then the runs other attempts hold, each as soon as its lease is free.
            while (true)
            {
                List<int> candidates;
                lock (_gate)
                {
                    if (_stopping || _waiting.Count == 0) break;
                    candidates = [.. _waiting];
                }
                int ready = candidates.FirstOrDefault(j => RunLeases.Holder(options, plan[j]) is null, -1);
                bool claimed;
                lock (_gate) claimed = ready >= 0 && _waiting.Remove(ready);
                if (claimed) Guarded(ready, plan, outcomes, view);
                else cancellation.WaitHandle.WaitOne(RunLeases.WaitPoll);
            }
        }) { Name = $"crate job {slot}", IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        if (_diskFull is { } cause) throw new DiskFullException(options.OutDirectory, new IOException(cause));
        foreach (int i in _waiting) outcomes[i] = new(plan[i], RunOutcomeKind.NotStarted, null, TimeSpan.Zero, false);
        return outcomes.Select(o => RunLeases.Settle(o, store, progress)).ToList();
    }

    private void Guarded(int i, IReadOnlyList<PlannedRun> plan, RunOutcome[] outcomes, IRunProgress view)
    {
        try { outcomes[i] = RunJob(i, plan[i], view); }
        catch (Exception e) when (DiskFullException.IsCause(e))
        {
            lock (_gate) _diskFull ??= e.Message;
            StopAll();
            outcomes[i] = new(plan[i], RunOutcomeKind.NotStarted, null, TimeSpan.Zero, false);
        }
        catch (Exception e) when (e is IOException or LiteDB.LiteException or ResultsStoreException)
        {
            outcomes[i] = new(plan[i], RunOutcomeKind.Failed, PlanRunner.Cause(e), TimeSpan.Zero, false);
        }
        if (outcomes[i].Kind == RunOutcomeKind.Busy && options.Wait)
            lock (_gate) _waiting.Add(i);
    }

    /// <summary>Asks every job to stop at its next step boundary (it checkpoints and exits); no new job starts.</summary>
    public void StopAll()
    {
        lock (_gate)
        {
            _stopping = true;
            foreach (var p in _active.Keys) Send(p, JobChannel.StopLine);
        }
    }

    /// <summary>
    /// Kills every job process at once (a second Ctrl-C) and releases their run leases: the runs resume from their last
    /// checkpoint, at once also from another host.
    /// </summary>
    public void KillAll()
    {
        lock (_gate)
        {
            _stopping = true;
            foreach (var p in _active.Keys)
                try { p.Kill(entireProcessTree: true); }
                catch (InvalidOperationException) { }   // already exited
            foreach (var (p, run) in _active)
                try
                {
                    if (p.WaitForExit(2000)) FileLease.ReleaseIfGone(RunLeases.Folder(options.OutDirectory, run.Key), p.Id);
                }
                catch (InvalidOperationException) { }
        }
    }

    private RunOutcome RunJob(int index, PlannedRun run, IRunProgress view)
    {
        lock (_gate)
            if (_stopping) return new(run, RunOutcomeKind.NotStarted, null, TimeSpan.Zero, false);
        if (PlanRunner.Skip(options, run, store.GetRun(run.Key), view) is { } skipped) return skipped;
        if (RunLeases.Holder(options, run) is { } holder) return RunLeases.Busy(options, run, holder, view);
        view.StartRun(index + 1, run.Label);
        var outcome = RunProcess(run, view);
        view.EndRun(outcome.Kind == RunOutcomeKind.Finished && !outcome.Resumed ? outcome.Duration : null);
        return outcome;
    }

    private RunOutcome RunProcess(PlannedRun run, IRunProgress view)
    {
        var clock = Stopwatch.StartNew();
        Process process;
        lock (_gate)
        {
            if (_stopping) return new(run, RunOutcomeKind.NotStarted, null, TimeSpan.Zero, false);
            try { process = Process.Start(startInfo(run)) ?? throw new InvalidOperationException("Process.Start returned no process"); }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return Failed(run, $"could not start its job process: {e.Message}", clock.Elapsed);
            }
            _active.Add(process, run);
        }
        int pid = process.Id;
        var lastErrors = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lastErrors) { lastErrors.Enqueue(e.Data); if (lastErrors.Count > KeptErrorLines) lastErrors.Dequeue(); }
            progress.WriteLine(errors, e.Data);
        };
        process.BeginErrorReadLine();
        JobResult? result = null;
        try
        {
            for (string? line; (line = process.StandardOutput.ReadLine()) is not null;)
            {
                var message = JobChannel.Parse(line);
                if (message is null) view.Message(line);
                else if (message.Message is { } text) view.Message(text);
                else if (message.Progress is { } info) view.Update(info);
                else if (message.Outcome is { } outcome) result = outcome;
                else if (message.DiskFull is { } cause)
                {
                    lock (_gate) _diskFull ??= cause;
                    StopAll();
                }
            }
            process.WaitForExit();
        }
        finally
        {
            lock (_gate) _active.Remove(process);
        }
        int exitCode = process.ExitCode;
        process.Dispose();
        if (result is not null)
            return new(run, result.Kind, result.Error, TimeSpan.FromSeconds(result.Seconds), result.Resumed, result.BadInput);
        // The process died without an outcome (killed, a native crash): record it, unless it got that far itself.
        string last;
        lock (lastErrors) last = lastErrors.LastOrDefault(l => l.StartsWith("error: ", StringComparison.Ordinal)) ?? lastErrors.LastOrDefault() ?? "";
        var error = $"its job process exited with code {exitCode}" + (last.Length > 0 ? $" ({last.Trim()})" : "");
        var died = Failed(run, error, clock.Elapsed);
        FileLease.ReleaseIfGone(RunLeases.Folder(options.OutDirectory, run.Key), pid);
        return died;
    }

    private RunOutcome Failed(PlannedRun run, string error, TimeSpan elapsed)
    {
        try
        {
            // Not when another attempt has taken the run over meanwhile (the record is its own then).
            if (RunLeases.Holder(options, run) is null && store.GetRun(run.Key) is { Status: RunStatus.Running } record)
            {
                record.Status = RunStatus.Failed;
                record.Error = error;
                store.UpsertRun(record);
            }
        }
        catch (Exception e) when (DiskFullException.IsCause(e)) { }   // a Running record resumes just the same
        return new(run, RunOutcomeKind.Failed, error, elapsed, false);
    }

    private static void Send(Process p, string line)
    {
        try
        {
            p.StandardInput.WriteLine(line);
            p.StandardInput.Flush();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException) { }   // it is exiting
    }
}
