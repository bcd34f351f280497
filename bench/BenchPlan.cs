using Crate.Core.Contract;
using Crate.Core.Training;

namespace Crate.Bench;

/// <summary>Which (task, model, config) the benchmark runs: the selected tasks' models at the preset, with the <c>--set</c> overrides.</summary>
internal static class BenchPlan
{
    public static IEnumerable<(ICrateTask Task, string Model, ResolvedConfig Config)> Resolve(IReadOnlyList<ICrateTask> tasks, BenchOptions o)
    {
        var result = new List<(ICrateTask, string, ResolvedConfig)>();
        var unmatched = new HashSet<string>(o.Models, StringComparer.Ordinal);
        foreach (string name in o.Tasks)
        {
            var task = tasks.FirstOrDefault(t => t.Name == name)
                       ?? throw new BenchUsageException($"task '{name}' is not built into the bench (tasks: {string.Join(", ", tasks.Select(t => t.Name))})");
            if (task is not IStepBenchmark)
                throw new BenchUsageException($"task '{name}' has no step benchmark (IStepBenchmark)");
            var preset = task.Presets.FirstOrDefault(p => p.Name == o.Preset)
                         ?? throw new BenchUsageException($"task '{name}' has no preset '{o.Preset}' (presets: {string.Join(", ", task.Presets.Select(p => p.Name))})");
            foreach (var (key, _) in o.Sets)
                if (!task.Schema.Contains(key))
                    throw new BenchUsageException($"--set {key}: task '{name}' has no config key '{key}'");
            foreach (var model in task.Models.Select(m => m.Name))
            {
                if (o.Models.Count > 0 && !o.Models.Contains(model)) continue;
                unmatched.Remove(model);
                result.Add((task, model, task.Schema.Resolve(preset.ValuesFor(model), o.Sets)));
            }
        }
        if (unmatched.Count > 0)
            throw new BenchUsageException($"--model: no selected task has a model named {string.Join(", ", unmatched.Select(m => $"'{m}'"))}");
        return result;
    }
}
