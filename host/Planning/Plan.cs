using Crate.Core.Contract;
using Crate.Host.Plugins;
using Crate.Results;

namespace Crate.Host.Planning;

/// <summary>One run of the plan: a (task, model, seed) with its resolved config and stable run key.</summary>
public sealed record PlannedRun(LoadedTask Task, ModelInfo Model, string Preset, int Seed, ResolvedConfig Config, string Key)
{
    /// <summary>The keys the user set with <c>--set</c> for this task (the rest come from the preset and the defaults).</summary>
    public IReadOnlySet<string> ExplicitKeys { get; init; } = new HashSet<string>();

    /// <summary>"task/model seed N" for messages.</summary>
    public string Label => $"{Task.Task.Name}/{Model.Name} seed {Seed}";
}

/// <summary>What the user asked for on the command line.</summary>
public sealed record PlanRequest(
    IReadOnlyList<string> Tasks,
    string Preset,
    IReadOnlyList<string>? Models,
    IReadOnlyList<int> Seeds,
    IReadOnlyList<string> Sets,
    (int Index, int Count)? Shard = null)
{
    /// <summary>
    /// <c>--precision</c>: fp32 or bf16 for every phase of every run (<c>train.precision</c>, and <c>finetune.precision</c>
    /// where a task has it), applied before <see cref="Sets"/>; null: the presets' value.
    /// </summary>
    public string? Precision { get; init; }

    /// <summary>The recipe keys <see cref="Precision"/> sets, in every task that has them.</summary>
    public static readonly IReadOnlyList<string> PrecisionKeys = ["train.precision", "finetune.precision"];
}

/// <summary>
/// Resolves a <see cref="PlanRequest"/> into runs: tasks × models × seeds. Every <c>--set</c> is checked
/// against the schemas of the selected tasks before anything runs. <c>--set key=value</c> applies to every
/// selected task that has the key; <c>--set task:key=value</c> to one task.
/// </summary>
public static class PlanBuilder
{
    /// <summary>Builds the plan or throws <see cref="UsageException"/> / <see cref="ConfigException"/> naming the problem.</summary>
    public static IReadOnlyList<PlannedRun> Build(PluginCatalog catalog, PlanRequest request)
    {
        var tasks = SelectTasks(catalog, request.Tasks);
        var precisionSets = request.Precision is { } precision
            ? PlanRequest.PrecisionKeys.Where(k => tasks.Any(t => t.Task.Schema.Contains(k))).Select(k => $"{k}={precision}")
            : [];
        var sets = precisionSets.Concat(request.Sets).Select(SetArgument.Parse).ToList();
        CheckSetsKnown(tasks, sets);
        if (request.Seeds.Count == 0) throw new UsageException("--seeds: give at least one seed, e.g. --seeds 0,1,2");

        var runs = new List<PlannedRun>();
        foreach (var loaded in tasks)
        {
            var task = loaded.Task;
            var preset = task.Presets.FirstOrDefault(p => p.Name == request.Preset)
                ?? throw new UsageException($"task '{task.Name}' has no preset '{request.Preset}'; presets: {string.Join(", ", task.Presets.Select(p => p.Name))}.");
            var overrides = sets.Where(s => s.AppliesTo(task.Name) && task.Schema.Contains(s.Key)).Select(s => s.Pair).ToList();
            foreach (var model in SelectModels(task, request.Models))
            {
                ResolvedConfig config;
                try
                {
                    config = task.Schema.Resolve(preset.ValuesFor(model.Name), overrides);
                    if (task is not IDataFittedConfig) (task as IConfigChecker)?.CheckConfig(model.Name, config);   // fitted tasks: after the fit (PlanDataFit)
                }
                catch (ConfigException e) { throw new ConfigException($"{task.Name}/{model.Name}: {e.Message}"); }
                var explicitKeys = overrides.Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
                foreach (var seed in request.Seeds)
                    runs.Add(new PlannedRun(loaded, model, preset.Name, seed, config,
                        RunKeys.Compute(task.Name, model.Name, config.ToJson(), seed)) { ExplicitKeys = explicitKeys });
            }
        }
        if (request.Shard is { } shard)
        {
            if (shard.Count < 1 || shard.Index < 0 || shard.Index >= shard.Count)
                throw new UsageException($"--shard {shard.Index}/{shard.Count}: expected i/n with 0 <= i < n");
            runs = runs.Where((_, i) => i % shard.Count == shard.Index).ToList();
        }
        return runs;
    }

    private static List<LoadedTask> SelectTasks(PluginCatalog catalog, IReadOnlyList<string> names)
    {
        if (names.Count == 0) throw new UsageException("name the tasks to run, or 'all'");
        if (names.Contains("all")) return catalog.Tasks.ToList() is { Count: > 0 } all ? all
            : throw new UsageException("no task plugins were loaded; run 'list' to see why");
        return names.Distinct().Select(catalog.Get).ToList();
    }

    private static IEnumerable<ModelInfo> SelectModels(ICrateTask task, IReadOnlyList<string>? wanted)
    {
        if (wanted is null || wanted.Count == 0) return task.Models;
        var chosen = task.Models.Where(m => wanted.Any(w =>
            w == m.Name || (w == "crate" && m.Role == ModelRole.Crate) || (w == "baseline" && m.Role == ModelRole.Baseline))).ToList();
        var unknown = wanted.Where(w => w is not ("crate" or "baseline") && task.Models.All(m => m.Name != w)).ToList();
        if (chosen.Count == 0 || (unknown.Count > 0 && unknown.Count == wanted.Count))
            throw new UsageException($"--models {string.Join(",", wanted)}: task '{task.Name}' has models {string.Join(", ", task.Models.Select(m => m.Name))} (or use the roles crate, baseline).");
        return chosen;
    }

    private static void CheckSetsKnown(List<LoadedTask> tasks, List<SetArgument> sets)
    {
        foreach (var s in sets)
        {
            var scope = s.Task is null ? tasks : tasks.Where(t => t.Task.Name == s.Task).ToList();
            if (s.Task is not null && scope.Count == 0)
                throw new UsageException($"--set {s.Raw}: task '{s.Task}' is not in this plan ({string.Join(", ", tasks.Select(t => t.Task.Name))}).");
            if (scope.Any(t => t.Task.Schema.Contains(s.Key))) continue;
            // Let the schema's own error suggest the nearest keys.
            try { scope[0].Task.Schema.Get(s.Key); }
            catch (ConfigException e) when (scope.Count == 1) { throw new ConfigException($"--set {s.Raw}: {e.Message}"); }
            throw new ConfigException($"--set {s.Raw}: unknown config key '{s.Key}' (not a key of {string.Join(", ", scope.Select(t => t.Task.Name))}; 'list' prints every key).");
        }
    }
}
