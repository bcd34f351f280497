using System.CommandLine;
using System.Globalization;
using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Interop;
using Crate.Core.Runtime;
using Crate.Core.Training;
using Crate.Host.Planning;
using Crate.Host.Plugins;
using Crate.Host.Running;
using Crate.Results;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Crate.Host.Cli;

/// <summary>reproduce: resolve the plan, fit it to the data, print it and run it with live progress.</summary>
public sealed partial class CliApp
{
    private Command ReproduceCommand()
    {
        var tasks = new Argument<string[]>("tasks") { Description = "'all' or task names", Arity = ArgumentArity.OneOrMore };
        var preset = new Option<string>("--preset") { Description = "smoke | small (CPU default) | paper", DefaultValueFactory = _ => "small" };
        var models = new Option<string>("--models") { Description = "Comma-separated model names or roles (crate, baseline); default all" };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds", DefaultValueFactory = _ => string.Join(",", DefaultSeeds) };
        var sets = new Option<string[]>("--set") { Description = "key=value or task:key=value (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var data = new Option<string[]>("--data") { Description = "name=DIR dataset folder (repeatable)", Arity = ArgumentArity.ZeroOrMore };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads in all, shared among the jobs", DefaultValueFactory = _ => Environment.ProcessorCount };
        var jobs = new Option<int?>("--jobs")
        {
            Description = "Runs at once, each a process with --threads/N threads (default: one per core on the CPU, capped at the runs; 1 on CUDA)",
        };
        var runKey = new Option<string>("--run-key") { Description = "Internal: run this one planned run as a job of --jobs", Hidden = true };
        var dryRun = new Option<bool>("--dry-run") { Description = "Resolve and print the plan, run nothing" };
        var fresh = new Option<bool>("--fresh") { Description = "Rerun finished runs and discard checkpoints of the planned runs" };
        var shard = new Option<string>("--shard")
        {
            Description = "i/n: run the plan's runs i, i+n, ... (for job arrays); auto: i/n of this Slurm array task or Kubernetes " +
                          "Indexed Job pod. --out may name the shard's folder with {shard}",
        };
        var precision = new Option<string>("--precision") { Description = "fp32 | bf16: compute precision of every run (sets train.precision and finetune.precision; default: the preset's, fp32)" };
        precision.AcceptOnlyFromAmong("fp32", "bf16");
        var verbose = new Option<bool>("--verbose") { Description = "Also print each run's info log lines (always in <run folder>/run.log)" };
        var noTensorBoard = new Option<bool>("--no-tensorboard")
        {
            Description = $"Write no TensorBoard event files (by default each run writes them into its folder while it trains; also {TensorBoardLog.EnvironmentVariable}=0)",
        };
        var wait = new Option<bool>("--wait") { Description = "A run another attempt is running on this --out (its lease is alive) is waited for, after the other runs, instead of skipped" };
        var leaseTimeout = new Option<int>("--lease-timeout")
        {
            Description = "Seconds without a heartbeat after which a run lease of another host is stale and taken over (on this machine a gone process is stale at once)",
            DefaultValueFactory = _ => (int)RunLeases.DefaultStaleAfter.TotalSeconds,
        };
        var cmd = new Command("reproduce", "Train CRATE and its baseline for the given tasks over several seeds, storing everything")
        {
            tasks, preset, models, seeds, sets, data, device, threads, jobs, precision, dryRun, fresh, shard, verbose, noTensorBoard, wait, leaseTimeout, runKey,
        };
        cmd.SetAction(r =>
        {
            var jobKey = r.GetValue(runKey);
            var catalog = Catalog(r, reportFailures: jobKey is null);
            var slice = r.GetValue(shard) is { } s ? Shard.Parse(s, Environment.GetEnvironmentVariable) : null;
            var request = new PlanRequest(
                r.GetValue(tasks) ?? [], r.GetValue(preset)!,
                r.GetValue(models) is { } m ? SplitList(m) : null,
                ParseSeeds(r.GetValue(seeds)!),
                r.GetValue(sets) ?? [],
                slice is null ? null : (slice.Index, slice.Count)) { Precision = r.GetValue(precision) };
            var locator = DataLocator.FromArgs(r.GetValue(data) ?? []);
            var (plan, fitNotes) = PlanDataFit.Fit(PlanBuilder.Build(catalog, request), locator);
            var outDir = Path.GetFullPath(Shard.ExpandOut(r.GetValue(_out)!, slice));
            var dev = ResolveDevice(r.GetValue(device)!);
            int nThreads = r.GetValue(threads);
            if (nThreads < 1) throw new UsageException("--threads must be at least 1");
            if (r.GetValue(leaseTimeout) < 1) throw new UsageException("--lease-timeout must be at least 1 (seconds)");
            var options = new RunnerOptions(outDir, dev, nThreads, r.GetValue(fresh), locator, r.GetValue(verbose),
                TensorBoard: !r.GetValue(noTensorBoard) && TensorBoardLog.EnabledByEnvironment(),
                Wait: r.GetValue(wait), LeaseTimeout: TimeSpan.FromSeconds(r.GetValue(leaseTimeout)));
            if (jobKey is not null) return RunJob(plan, jobKey, options);
            int nJobs = r.GetValue(jobs) ?? DefaultJobs(dev);
            if (nJobs < 1) throw new UsageException("--jobs must be at least 1");
            nJobs = Math.Min(nJobs, Math.Max(1, plan.Count));
            if (nJobs > 1) options = options with { Threads = Math.Max(1, nThreads / nJobs) };

            if (slice?.Source is { } source) stdout.WriteLine($"Shard {slice.Index}/{slice.Count} ({source})");
            PrintPlan(plan, outDir, dev, nJobs, options.Threads);
            foreach (var note in fitNotes) stdout.WriteLine($"    {note}");
            if (r.GetValue(dryRun)) return ExitCodes.Ok;

            using var store = ResultsStore.Open(outDir);
            if (store.ClearedDamageMark)
                stdout.WriteLine($"note: {store.DatabasePath} carried LiteDB's damage mark from a failed write (a full disk?); " +
                                 "every document and index read back intact, so the mark was cleared");
            using var cts = new CancellationTokenSource();
            JobPool? pool = null;
            // Ctrl-C (SIGINT) and SIGTERM (a scheduler's stop, e.g. Slurm or Kubernetes) stop the runs in
            // flight at the next step boundary with a checkpoint; the same signal again ends the process (and its jobs).
            bool Stop(string what)
            {
                if (cts.IsCancellationRequested)
                {
                    pool?.KillAll();
                    FileLease.ReleaseAll();   // this process ends now: its run lease goes free at once, for any host
                    return false;
                }
                stderr.WriteLine($"\n{what}: stopping at the next step boundary and saving a checkpoint ({what} again to abort)...");
                cts.Cancel();
                return true;
            }
            ConsoleCancelEventHandler onCancel = (_, e) => e.Cancel = Stop("Ctrl-C");
            Console.CancelKeyPress += onCancel;
            using var onTerm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx => ctx.Cancel = Stop("SIGTERM"));
            try
            {
                var progress = new ProgressView(stdout, plan.Count, interactive: !Console.IsOutputRedirected && ReferenceEquals(stdout, Console.Out), nJobs);
                IReadOnlyList<RunOutcome> outcomes;
                if (nJobs == 1) outcomes = new PlanRunner(store, options, progress, loggers).Run(plan, cts.Token);
                else
                {
                    pool = new JobPool(store, options, progress, stderr, nJobs, run => JobStartInfo(run.Key, options.Threads));
                    outcomes = pool.Run(plan, cts.Token);
                }
                return Summarise(outcomes, store.DatabasePath);
            }
            catch (DiskFullException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return ExitCodes.RunsFailed;
            }
            finally { Console.CancelKeyPress -= onCancel; }
        });
        return cmd;
    }

    private void PrintPlan(IReadOnlyList<PlannedRun> plan, string outDir, string device, int jobs, int threads)
    {
        var how = jobs == 1 ? $"{threads} thread(s)" : $"{jobs} jobs at once, {threads} thread(s) each";
        stdout.WriteLine($"Plan: {plan.Count} run(s) on {device} with {how}, results in {outDir}");
        foreach (var group in plan.GroupBy(r => (r.Task.Task.Name, r.Model.Name)))
        {
            var first = group.First();
            stdout.WriteLine($"  {first.Task.Task.Name}/{first.Model.Name} ({first.Model.Role.ToString().ToLowerInvariant()}), preset {first.Preset}, seeds {string.Join(",", group.Select(g => g.Seed))}");
            var changed = first.Config.Values.Where(kv => !Equals(first.Config.Schema.Get(kv.Key).Default, kv.Value))
                .Select(kv => $"{kv.Key}={ConfigKey.Format(kv.Value)}");
            stdout.WriteLine($"    config: {string.Join(" ", changed.DefaultIfEmpty("defaults"))}");
        }
    }

    private int Summarise(IReadOnlyList<RunOutcome> outcomes, string database)
    {
        stdout.WriteLine();
        stdout.WriteLine($"Summary ({database}):");
        foreach (var o in outcomes)
        {
            var how = o.Kind switch
            {
                RunOutcomeKind.Finished => o.Resumed ? "finished (resumed)" : "finished",
                RunOutcomeKind.Skipped => "already finished",
                RunOutcomeKind.NotStarted => "not started",
                RunOutcomeKind.Busy => "busy elsewhere",
                _ => o.Kind.ToString().ToLowerInvariant(),
            };
            stdout.WriteLine($"  {o.Run.Label,-28} {how,-20} {(o.Duration > TimeSpan.Zero ? ProgressView.Fmt(o.Duration) : ""),8}  {o.Run.Key}");
        }
        var failed = outcomes.Where(o => o.Kind == RunOutcomeKind.Failed).ToList();
        // A bad input names itself in one error line below (the runs it failed are [failed] above and in the table).
        foreach (var f in failed.Where(f => f.BadInput is null)) stderr.WriteLine($"FAILED {f.Run.Label} (run {f.Run.Key}): {f.Error}");
        var busy = outcomes.Count(o => o.Kind == RunOutcomeKind.Busy);
        if (busy > 0)
            stdout.WriteLine($"{busy} run(s) skipped: another attempt is running them on this folder (see [busy] above); " +
                             "rerun once it ends, or add --wait to wait for them.");
        // Bad input found inside a run (corrupt data, a config the task refuses): the one line every bad input gets, exit 2.
        var badInput = failed.Select(f => f.BadInput).OfType<string>().Distinct().ToList();
        foreach (var message in badInput) stderr.WriteLine($"error: {message}");
        bool interrupted = outcomes.Any(o => o.Kind is RunOutcomeKind.Interrupted or RunOutcomeKind.NotStarted);
        if (interrupted) stdout.WriteLine("Interrupted: rerun the same command to resume.");
        else if (failed.Count > 0) stdout.WriteLine($"{failed.Count} run(s) failed.");
        else if (busy == 0) stdout.WriteLine("All runs succeeded. 'report' prints the comparison.");
        if (badInput.Count > 0) return ExitCodes.BadInput;
        if (interrupted) return ExitCodes.Interrupted;
        if (failed.Count > 0) return ExitCodes.RunsFailed;
        return busy > 0 ? ExitCodes.Busy : ExitCodes.Ok;
    }
}
