using System.CommandLine;
using System.Globalization;
using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Interop;
using Crate.Core.Training;
using Crate.Host.Planning;
using Crate.Host.Plugins;
using Crate.Host.Running;
using Crate.Results;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Crate.Host.Cli;

/// <summary>Exit codes of the <c>crate</c> command.</summary>
public static class ExitCodes
{
    /// <summary>Everything asked for succeeded.</summary>
    public const int Ok = 0;
    /// <summary>At least one run failed (the others completed), or the output folder's disk filled up (the plan stopped; rerun to resume); for <c>merge</c>: a shard database was skipped (the others were merged).</summary>
    public const int RunsFailed = 1;
    /// <summary>Bad input: usage, config, data or database error; nothing ran.</summary>
    public const int BadInput = 2;
    /// <summary>An unexpected error (a bug or a failing library); <c>CRATE_LOG_LEVEL=Debug</c> prints the stack.</summary>
    public const int Internal = 3;
    /// <summary>Stopped by Ctrl-C; rerun to resume.</summary>
    public const int Interrupted = 130;
}

/// <summary>The command tree: list, reproduce, report, merge.</summary>
public sealed class CliApp(ILoggerFactory loggers, TextWriter stdout, TextWriter stderr)
{
    /// <summary>Default seeds: several, so every comparison has a spread.</summary>
    public static readonly int[] DefaultSeeds = [0, 1, 2];

    private readonly Option<string[]> _plugins = new("--plugins")
    {
        Description = "Extra plugin folder or assembly (repeatable); the host's plugins/ folder is always scanned",
        Recursive = true, Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false,
    };
    private readonly Option<string> _out = new("--out")
    {
        Description = "Results folder: database and run folders", Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CRATE_OUT") is { Length: > 0 } o ? o : "runs",
    };

    /// <summary>Builds the root command.</summary>
    public RootCommand Build()
    {
        var root = new RootCommand("CRATE reproduction harness: white-box transformers (CRATE) against their baselines.");
        root.Options.Add(_plugins);
        root.Options.Add(_out);
        root.Subcommands.Add(ListCommand());
        root.Subcommands.Add(ReproduceCommand());
        root.Subcommands.Add(ReportCommand());
        root.Subcommands.Add(MergeCommand());
        root.Subcommands.Add(EvaluateCommand());
        root.Subcommands.Add(SampleCommand());
        return root;
    }

    /// <summary>Parses and runs; bad input is one line on stderr and exit code 2.</summary>
    public int Invoke(string[] args)
    {
        var parsed = Build().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) stderr.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsBadInput(e))
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"error: {PlanRunner.Cause(e)}");
            loggers.CreateLogger("crate").LogDebug(e, "unhandled");
            return ExitCodes.Internal;
        }
    }

    /// <summary>
    /// Errors caused by what the user gave (arguments, config keys, data files, checkpoints, the results
    /// database): one message, exit code 2. Training runs catch their own errors in <see cref="PlanRunner"/>;
    /// these reach here from <c>evaluate</c>, <c>sample</c>, <c>report</c> and planning.
    /// </summary>
    private static bool IsBadInput(Exception e) => e is BadInputException;

    private PluginCatalog Catalog(ParseResult r, bool reportFailures = true)
    {
        var catalog = PluginCatalog.Discover(r.GetValue(_plugins) ?? []);
        if (reportFailures)
            foreach (var f in catalog.Failures) stderr.WriteLine($"warning: plugin {f.Path} not loaded: {f.Reason}");
        return catalog;
    }

    // ---- list -------------------------------------------------------------------------------

    private Command ListCommand()
    {
        var what = new Argument<string>("what") { Description = "tasks (default), models or keys", DefaultValueFactory = _ => "tasks" };
        what.AcceptOnlyFromAmong("tasks", "models", "keys");
        var cmd = new Command("list", "Show loaded tasks, models, presets and plugin folders; 'list models' adds parameter counts; 'list keys' every config key") { what };
        cmd.SetAction(r =>
        {
            var catalog = Catalog(r, reportFailures: false);
            switch (r.GetValue(what))
            {
                case "models": ListModels(catalog); break;
                case "keys": ListKeys(catalog); break;
                default: ListTasks(catalog); break;
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private void ListTasks(PluginCatalog catalog)
    {
        if (catalog.Tasks.Count == 0) stdout.WriteLine("No task plugins loaded.");
        foreach (var t in catalog.Tasks)
        {
            var task = t.Task;
            stdout.WriteLine($"{task.Name}: {task.Title}");
            stdout.WriteLine($"  from     {t.AssemblyPath}");
            stdout.WriteLine($"  models   {string.Join(", ", task.Models.Select(m => $"{m.Name} ({m.Role.ToString().ToLowerInvariant()}: {m.Description})"))}");
            stdout.WriteLine($"  presets  {string.Join(", ", task.Presets.Select(p => p.Name))}");
            foreach (var p in task.Presets) stdout.WriteLine($"    {p.Name,-8} {p.Description}");
            stdout.WriteLine($"  data     {string.Join(", ", task.Datasets.Select(d => d.ShippedDefault is null ? d.Name : $"{d.Name} (shipped: data/{d.ShippedDefault})"))}");
            stdout.WriteLine($"  metrics  {string.Join(", ", task.Metrics.Select(m => m.Name))}");
        }
        foreach (var f in catalog.Failures) stdout.WriteLine($"FAILED {f.Path}: {f.Reason}");
    }

    private void ListModels(PluginCatalog catalog)
    {
        stdout.WriteLine($"{"task",-8} {"model",-10} {"config",-18} {"parameters",14}  description");
        foreach (var t in catalog.Tasks)
            foreach (var c in t.Task.NamedConfigs)
                stdout.WriteLine($"{t.Task.Name,-8} {c.Model,-10} {c.Name,-18} {c.Parameters.ToString("N0", CultureInfo.InvariantCulture),14}  {c.Description}");
    }

    private void ListKeys(PluginCatalog catalog)
    {
        foreach (var t in catalog.Tasks)
        {
            stdout.WriteLine($"{t.Task.Name}:");
            foreach (var k in t.Task.Schema.Keys)
                stdout.WriteLine($"  {k.Name,-28} {ConfigKey.Format(k.Default),-12} {k.Allowed}. {k.Description}");
        }
    }

    // ---- reproduce --------------------------------------------------------------------------

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
        var threads = new Option<int>("--threads") { Description = "Torch intra-op threads", DefaultValueFactory = _ => Environment.ProcessorCount };
        var dryRun = new Option<bool>("--dry-run") { Description = "Resolve and print the plan, run nothing" };
        var fresh = new Option<bool>("--fresh") { Description = "Rerun finished runs and discard checkpoints of the planned runs" };
        var shard = new Option<string>("--shard") { Description = "i/n: run a deterministic slice of the plan (for job arrays)" };
        var cmd = new Command("reproduce", "Train CRATE and its baseline for the given tasks over several seeds, storing everything")
        {
            tasks, preset, models, seeds, sets, data, device, threads, dryRun, fresh, shard,
        };
        cmd.SetAction(r =>
        {
            var catalog = Catalog(r);
            var request = new PlanRequest(
                r.GetValue(tasks) ?? [], r.GetValue(preset)!,
                r.GetValue(models) is { } m ? SplitList(m) : null,
                ParseSeeds(r.GetValue(seeds)!),
                r.GetValue(sets) ?? [],
                r.GetValue(shard) is { } s ? ParseShard(s) : null);
            var plan = PlanBuilder.Build(catalog, request);
            var locator = DataLocator.FromArgs(r.GetValue(data) ?? []);
            var outDir = Path.GetFullPath(r.GetValue(_out)!);
            var dev = ResolveDevice(r.GetValue(device)!);
            int nThreads = r.GetValue(threads);
            if (nThreads < 1) throw new UsageException("--threads must be at least 1");

            PrintPlan(plan, outDir, dev, nThreads);
            PlanRunner.CheckData(plan, locator);
            if (r.GetValue(dryRun)) return ExitCodes.Ok;

            using var store = ResultsStore.Open(outDir);
            using var cts = new CancellationTokenSource();
            // Ctrl-C (SIGINT) and SIGTERM (a scheduler's stop, e.g. Slurm or Kubernetes) stop the run in
            // flight at the next step boundary with a checkpoint; the same signal again ends the process.
            bool Stop(string what)
            {
                if (cts.IsCancellationRequested) return false;
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
                var progress = new ProgressView(stdout, plan.Count, interactive: !Console.IsOutputRedirected && ReferenceEquals(stdout, Console.Out));
                var runner = new PlanRunner(store, new RunnerOptions(outDir, dev, nThreads, r.GetValue(fresh), locator), progress, loggers);
                var outcomes = runner.Run(plan, cts.Token);
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

    private void PrintPlan(IReadOnlyList<PlannedRun> plan, string outDir, string device, int threads)
    {
        stdout.WriteLine($"Plan: {plan.Count} run(s) on {device} with {threads} thread(s), results in {outDir}");
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
                _ => o.Kind.ToString().ToLowerInvariant(),
            };
            stdout.WriteLine($"  {o.Run.Label,-28} {how,-20} {(o.Duration > TimeSpan.Zero ? ProgressView.Fmt(o.Duration) : ""),8}  {o.Run.Key}");
        }
        var failed = outcomes.Where(o => o.Kind == RunOutcomeKind.Failed).ToList();
        foreach (var f in failed) stderr.WriteLine($"FAILED {f.Run.Label} (run {f.Run.Key}): {f.Error}");
        if (outcomes.Any(o => o.Kind is RunOutcomeKind.Interrupted or RunOutcomeKind.NotStarted))
        {
            stdout.WriteLine("Interrupted: rerun the same command to resume.");
            return ExitCodes.Interrupted;
        }
        stdout.WriteLine(failed.Count == 0 ? "All runs succeeded. 'report' prints the comparison." : $"{failed.Count} run(s) failed.");
        return failed.Count == 0 ? ExitCodes.Ok : ExitCodes.RunsFailed;
    }

    // ---- report -----------------------------------------------------------------------------

    private Command ReportCommand()
    {
        var format = new Option<string>("--format") { Description = "md | csv | json", DefaultValueFactory = _ => "md" };
        format.AcceptOnlyFromAmong("md", "csv", "json");
        var file = new Option<string>("--file") { Description = "Write to this file instead of stdout" };
        var runs = new Option<bool>("--runs") { Description = "One row per run instead of the CRATE-vs-baseline summary" };
        var task = new Option<string>("--task") { Description = "Only this task" };
        var noPlots = new Option<bool>("--no-plots") { Description = "Markdown without drawing the PNG figures (training curves, white-box per layer) into <out>/plots/" };
        var curves = new Option<bool>("--curves") { Description = "Every evaluation row of every run (run key, task, model, seed, phase, step, epoch, metric, value); with --format csv or json" };
        var cmd = new Command("report", "CRATE against baseline per task and metric: mean ± std over seeds, difference, paper values") { format, file, runs, task, noPlots, curves };
        cmd.SetAction(r =>
        {
            var outDir = Path.GetFullPath(r.GetValue(_out)!);
            if (!File.Exists(Path.Combine(outDir, "results.db")))
                throw new UsageException($"no results database in {outDir}; run 'reproduce' first or pass --out DIR");
            if (r.GetValue(curves) && r.GetValue(format) == "md")
                throw new UsageException("report --curves exports rows for other tools: add --format csv or --format json");
            if (r.GetValue(curves) && r.GetValue(runs))
                throw new UsageException("report: --curves and --runs are two different exports; pick one");
            using var store = ResultsStore.Open(outDir);
            var records = store.Runs(r.GetValue(task));
            var path = r.GetValue(file) is { } f ? Path.GetFullPath(f) : null;
            using var writer = path is null ? null : new StreamWriter(path);
            var target = writer ?? stdout;
            if (r.GetValue(curves))
            {
                var points = Report.Curves(records, store.Epochs);
                if (r.GetValue(format) == "csv") ReportWriter.WriteCsv(target, points);
                else ReportWriter.WriteJson(target, points);
                if (path is not null) stdout.WriteLine($"Wrote {path}");
                return ExitCodes.Ok;
            }
            var baseDir = path is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(path)!;
            var plots = r.GetValue(format) == "md" && r.GetValue(noPlots) is false
                ? ReportPlots.Write(store, records, Path.Combine(outDir, "plots")) : [];
            var whiteBox = r.GetValue(format) == "md" ? Report.WhiteBox(records, store.WhiteBox) : [];
            WriteReport(target, r.GetValue(format)!, records, r.GetValue(runs), baseDir, plots, whiteBox);
            if (path is not null) stdout.WriteLine($"Wrote {path}");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static void WriteReport(TextWriter target, string format, IReadOnlyList<RunRecord> records, bool perRun, string baseDir,
        IReadOnlyList<ReportArtifact> plots, IReadOnlyList<WhiteBoxSummaryRow> whiteBox)
    {
        var summary = Report.Summarise(records);
        var runs = Report.PerRun(records);
        switch (format)
        {
            case "csv" when perRun: ReportWriter.WriteCsv(target, runs); break;
            case "csv": ReportWriter.WriteCsv(target, summary); break;
            case "json": ReportWriter.WriteJson(target, perRun ? [] : summary, perRun ? runs : null); break;
            default: ReportWriter.WriteMarkdown(target, summary, perRun ? runs : null, [.. plots, .. Report.Artifacts(records)], baseDir, whiteBox); break;
        }
    }

    // ---- merge ------------------------------------------------------------------------------

    private Command MergeCommand()
    {
        var sources = new Argument<string[]>("sources") { Description = "Results folders (or results.db files) of shards", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("merge", "Fold shard databases into the --out database; an unreadable shard is named and skipped (exit 1)") { sources };
        cmd.SetAction(r =>
        {
            using var store = ResultsStore.Open(Path.GetFullPath(r.GetValue(_out)!));
            var skipped = 0;
            foreach (var s in r.GetValue(sources)!)
            {
                var db = Path.GetFullPath(Directory.Exists(s) ? Path.Combine(s, ResultsStore.FileName) : s);
                try
                {
                    stdout.WriteLine($"{db}: {store.MergeFrom(db)} run(s) merged");
                }
                catch (ResultsStoreException e)
                {
                    // One bad shard (never written, cut off, corrupt) must not hide the others: name it, merge the rest.
                    stderr.WriteLine($"error: skipped {db}: {e.Message}");
                    skipped++;
                }
            }
            if (skipped > 0) stderr.WriteLine($"{skipped} shard database(s) skipped; the others were merged into {store.DatabasePath}");
            return skipped == 0 ? ExitCodes.Ok : ExitCodes.RunsFailed;
        });
        return cmd;
    }

    // ---- evaluate / sample (optional task capabilities) ---------------------------------------

    private sealed record CheckpointOptions(
        Argument<string> Task, Option<string> Model, Option<string> Checkpoint, Option<string> Run,
        Option<string> Preset, Option<string[]> Sets, Option<string[]> Data, Option<string> Device)
    {
        public IEnumerable<Symbol> All => [Task, Model, Checkpoint, Run, Preset, Sets, Data, Device];
    }

    private static CheckpointOptions NewCheckpointOptions(string what)
    {
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda", DefaultValueFactory = _ => "auto" };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        return new(
            new Argument<string>("task") { Description = "Task name" },
            new Option<string>("--model") { Description = "Model name (taken from the run with --run)" },
            new Option<string>("--checkpoint") { Description = $"Checkpoint to {what}: a PyTorch .pth/.pt/.safetensors state_dict or a checkpoint folder" },
            new Option<string>("--run") { Description = "Run key (or unique prefix) in the --out database: its config and last checkpoint" },
            new Option<string>("--preset") { Description = "Preset the config starts from (without --run)", DefaultValueFactory = _ => "small" },
            new Option<string[]>("--set") { Description = "key=value config override (repeatable), e.g. model.dim=384", Arity = ArgumentArity.ZeroOrMore },
            new Option<string[]>("--data") { Description = "name=DIR dataset folder (repeatable)", Arity = ArgumentArity.ZeroOrMore },
            device);
    }

    private (ICrateTask Task, CheckpointRequest Request) ResolveCheckpoint(ParseResult r, CheckpointOptions o, CancellationToken ct)
    {
        var task = Catalog(r).Get(r.GetValue(o.Task)!).Task;
        var sets = (r.GetValue(o.Sets) ?? []).Select(s =>
        {
            int eq = s.IndexOf('=');
            return eq > 0 ? KeyValuePair.Create(s[..eq].Trim(), s[(eq + 1)..]) : throw new UsageException($"--set {s}: expected key=value");
        }).ToList();
        string model, checkpoint;
        ResolvedConfig config;
        if (r.GetValue(o.Run) is { } key)
        {
            var outDir = Path.GetFullPath(r.GetValue(_out)!);
            if (!File.Exists(Path.Combine(outDir, ResultsStore.FileName))) throw new UsageException($"--run {key}: no results database in {outDir} (pass --out DIR)");
            using var store = ResultsStore.Open(outDir);
            var matches = store.Runs(task.Name).Where(x => x.Id.StartsWith(key, StringComparison.Ordinal)).ToList();
            var record = matches.Count == 1 ? matches[0]
                : throw new UsageException(matches.Count == 0 ? $"--run {key}: no {task.Name} run with that key in {store.DatabasePath}" : $"--run {key}: {matches.Count} runs match; give more of the key");
            model = record.Model;
            config = task.Schema.Resolve(ResolvedConfig.FromJson(task.Schema, record.ConfigJson).Values
                .Select(kv => KeyValuePair.Create(kv.Key, ConfigKey.Format(kv.Value))), sets);
            checkpoint = r.GetValue(o.Checkpoint) ?? Path.Combine(record.RunDirectory, "checkpoints");
        }
        else
        {
            checkpoint = r.GetValue(o.Checkpoint) ?? throw new UsageException("give --checkpoint FILE or --run KEY");
            model = r.GetValue(o.Model) ?? throw new UsageException($"--model is required with --checkpoint ({string.Join(", ", task.Models.Select(m => m.Name))})");
            var presetName = r.GetValue(o.Preset)!;
            var preset = task.Presets.FirstOrDefault(p => p.Name == presetName)
                ?? throw new UsageException($"task '{task.Name}' has no preset '{presetName}'");
            if (task.Models.All(m => m.Name != model))
                throw new UsageException($"--model {model}: task '{task.Name}' has models {string.Join(", ", task.Models.Select(m => m.Name))}");
            config = task.Schema.Resolve(preset.ValuesFor(model), sets);
        }
        checkpoint = Path.GetFullPath(checkpoint);
        if (!File.Exists(checkpoint) && !Directory.Exists(checkpoint)) throw new UsageException($"checkpoint not found: {checkpoint}");
        var data = DataLocator.FromArgs(r.GetValue(o.Data) ?? []);
        string DataDir(string name) => data.Resolve(task.Datasets.FirstOrDefault(d => d.Name == name) ?? new DatasetNeed(name, name, null));
        var request = new CheckpointRequest(model, checkpoint, config, sets.Select(s => s.Key).ToHashSet(), DataDir,
            ResolveDevice(r.GetValue(o.Device)!), loggers.CreateLogger(task.Name), ct);
        return (task, request);
    }

    private Command EvaluateCommand()
    {
        var o = NewCheckpointOptions("evaluate");
        var json = new Option<bool>("--json") { Description = "End with one JSON object of the metrics on the last line" };
        var cmd = new Command("evaluate", "Evaluate a checkpoint (ours or the reference PyTorch implementation's) on the task's test split");
        foreach (var s in o.All) Add(cmd, s);
        cmd.Options.Add(json);
        cmd.SetAction(r =>
        {
            var (task, request) = ResolveCheckpoint(r, o, CancellationToken.None);
            if (task is not ICheckpointEvaluator evaluator) throw new UsageException($"task '{task.Name}' cannot evaluate checkpoints");
            var result = evaluator.Evaluate(request);
            foreach (var note in result.Notes) stdout.WriteLine(note);
            foreach (var (k, v) in result.Metrics) stdout.WriteLine($"{k,-12} {v.ToString("0.######", CultureInfo.InvariantCulture)}");
            if (r.GetValue(json)) stdout.WriteLine(System.Text.Json.JsonSerializer.Serialize(result.Metrics));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private Command SampleCommand()
    {
        var o = NewCheckpointOptions("sample from");
        var prompt = new Option<string>("--prompt") { Description = "Text to continue", DefaultValueFactory = _ => "\n" };
        var tokens = new Option<int>("--tokens") { Description = "Tokens to generate", DefaultValueFactory = _ => 200 };
        var temperature = new Option<double>("--temperature") { Description = "Softmax temperature (> 0)", DefaultValueFactory = _ => 0.8 };
        var topK = new Option<int?>("--top-k") { Description = "Sample among the K most likely tokens" };
        var seed = new Option<int>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var cmd = new Command("sample", "Generate text from a language-model checkpoint");
        foreach (var s in o.All) Add(cmd, s);
        foreach (var s in new Option[] { prompt, tokens, temperature, topK, seed }) cmd.Options.Add(s);
        cmd.SetAction(r =>
        {
            var (task, request) = ResolveCheckpoint(r, o, CancellationToken.None);
            if (task is not ITextSampler sampler) throw new UsageException($"task '{task.Name}' does not generate text");
            if (r.GetValue(tokens) < 1) throw new UsageException("--tokens must be at least 1");
            if (!(r.GetValue(temperature) > 0)) throw new UsageException("--temperature must be > 0");
            if (r.GetValue(topK) is < 1) throw new UsageException("--top-k must be at least 1");
            var text = sampler.Sample(request, new SamplingOptions(r.GetValue(prompt)!.Replace("\\n", "\n"), r.GetValue(tokens),
                r.GetValue(temperature), r.GetValue(topK), r.GetValue(seed)));
            stdout.WriteLine(text);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static void Add(Command cmd, Symbol s)
    {
        if (s is Argument a) cmd.Arguments.Add(a); else cmd.Options.Add((Option)s);
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static List<string> SplitList(string s) =>
        s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static List<int> ParseSeeds(string s) => SplitList(s).Select(x =>
        int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v
            : throw new UsageException($"--seeds: '{x}' is not a non-negative integer")).ToList();

    private static (int, int) ParseShard(string s)
    {
        var parts = s.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out var i) && int.TryParse(parts[1], out var n)) return (i, n);
        throw new UsageException($"--shard {s}: expected i/n, e.g. --shard 0/4");
    }

    /// <summary>auto → cuda when libtorch sees a GPU, else cpu; cuda without a GPU is an error.</summary>
    public static string ResolveDevice(string requested)
    {
        bool cuda = torch.cuda.is_available();
        return requested switch
        {
            "auto" => cuda ? "cuda" : "cpu",
            "cuda" when !cuda => throw new UsageException("--device cuda: no CUDA device visible to libtorch (this build uses the CPU libtorch unless built with -p:TorchBackend=cuda; see README)"),
            _ => requested,
        };
    }
}
