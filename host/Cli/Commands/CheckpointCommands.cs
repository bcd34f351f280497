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

/// <summary>evaluate and sample: one-off commands on a checkpoint, for tasks that offer them.</summary>
public sealed partial class CliApp
{
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
            new Option<string[]>("--set") { Description = "key=value or task:key=value config override (repeatable), e.g. model.dim=384", Arity = ArgumentArity.ZeroOrMore },
            new Option<string[]>("--data") { Description = "name=DIR dataset folder (repeatable)", Arity = ArgumentArity.ZeroOrMore },
            device);
    }

    private (ICrateTask Task, CheckpointRequest Request) ResolveCheckpoint(ParseResult r, CheckpointOptions o, CancellationToken ct)
    {
        var task = Catalog(r).Get(r.GetValue(o.Task)!).Task;
        var parsed = (r.GetValue(o.Sets) ?? []).Select(SetArgument.Parse).ToList();
        foreach (var other in parsed.Where(s => !s.AppliesTo(task.Name)))
            throw new UsageException($"--set {other.Raw}: this command runs task '{task.Name}', not '{other.Task}'");
        var sets = parsed.Select(s => s.Pair).ToList();
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
}
