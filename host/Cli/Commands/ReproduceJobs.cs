using System.Diagnostics;
using System.Runtime.InteropServices;
using Crate.Core.Runtime;
using Crate.Host.Plugins;
using Crate.Host.Planning;
using Crate.Host.Running;
using Crate.Results;

namespace Crate.Host.Cli;

/// <summary>
/// reproduce --jobs N: the default job count, the command line of a job process, and the job process itself
/// (the internal <c>--run-key KEY</c>: one planned run, its progress as <see cref="JobChannel"/> lines on stdout).
/// </summary>
public sealed partial class CliApp
{
    /// <summary>
    /// One job per core on the CPU (small models gain little from a second intra-op thread, so N one-thread runs beat
    /// one N-thread run; measured in README.md), one on CUDA (the runs would share one GPU).
    /// </summary>
    public static int DefaultJobs(string device) => device == "cuda" ? 1 : Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// The arguments of the job process for run <paramref name="key"/>: this command line without its <c>--jobs</c> and
    /// <c>--threads</c>, then <c>--threads T --jobs 1 --run-key KEY</c> (every other option, --precision or --set alike, is passed on as given).
    /// </summary>
    public static IReadOnlyList<string> JobArguments(IReadOnlyList<string> args, string key, int threads)
    {
        string[] replaced = ["--jobs", "--threads"];
        var kept = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (replaced.Contains(args[i])) { i++; continue; }                               // --jobs 2
            if (replaced.Any(o => args[i].StartsWith(o + "=", StringComparison.Ordinal) ||
                                  args[i].StartsWith(o + ":", StringComparison.Ordinal))) continue;   // --jobs=2
            kept.Add(args[i]);
        }
        return [.. kept, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--jobs", "1", "--run-key", key];
    }

    /// <summary>Starts this host again (the apphost, or <c>dotnet crate.dll</c>) as the job for run <paramref name="key"/>.</summary>
    private ProcessStartInfo JobStartInfo(string key, int threads)
    {
        var self = Environment.ProcessPath;
        var assembly = typeof(CliApp).Assembly.Location;
        bool apphost = self is not null && Path.GetFileNameWithoutExtension(self) == Path.GetFileNameWithoutExtension(assembly);
        bool dotnet = self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet";
        var psi = new ProcessStartInfo(apphost || dotnet ? self! : "dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            StandardOutputEncoding = System.Text.Encoding.UTF8, StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        if (!apphost) psi.ArgumentList.Add(assembly);
        foreach (var a in JobArguments(_args, key, threads)) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>
    /// A job process: runs the planned run <paramref name="key"/> and reports over <see cref="JobChannel"/>. It stops at the
    /// next step boundary when its parent writes <see cref="JobChannel.StopLine"/> or closes its stdin (the parent died),
    /// or on Ctrl-C / SIGTERM; a second signal ends it. The exit code is the one-job code for this run.
    /// </summary>
    private int RunJob(IReadOnlyList<PlannedRun> plan, string key, RunnerOptions options)
    {
        var run = plan.FirstOrDefault(p => p.Key == key)
            ?? throw new UsageException($"--run-key {key}: no run of this plan has that key");
        var channel = new JobChannel(stdout);
        using var store = ResultsStore.Open(options.OutDirectory);
        var cts = new CancellationTokenSource();
        bool Stop()
        {
            if (cts.IsCancellationRequested)
            {
                FileLease.ReleaseAll();   // a second signal ends this process now: free its run lease first
                return false;
            }
            cts.Cancel();
            return true;
        }
        ConsoleCancelEventHandler onCancel = (_, e) => e.Cancel = Stop();
        Console.CancelKeyPress += onCancel;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => ctx.Cancel = Stop());
        var parent = new Thread(() =>
        {
            try { while (Console.In.ReadLine() is { } line && line != JobChannel.StopLine) { } }
            catch (IOException) { }
            Stop();
        }) { IsBackground = true, Name = "crate job: parent's stop" };
        parent.Start();
        try
        {
            var outcome = new PlanRunner(store, options, channel, loggers).Run([run], cts.Token).Single();
            channel.Outcome(outcome);
            return outcome.Kind switch
            {
                RunOutcomeKind.Failed when outcome.BadInput is not null => ExitCodes.BadInput,
                RunOutcomeKind.Failed => ExitCodes.RunsFailed,
                RunOutcomeKind.Busy => ExitCodes.Busy,
                RunOutcomeKind.Interrupted or RunOutcomeKind.NotStarted => ExitCodes.Interrupted,
                _ => ExitCodes.Ok,
            };
        }
        catch (DiskFullException e)
        {
            channel.DiskFull(e);
            return ExitCodes.RunsFailed;
        }
        finally { Console.CancelKeyPress -= onCancel; }
    }
}
