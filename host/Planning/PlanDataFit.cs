using Crate.Core.Contract;
using Crate.Host.Running;
using Crate.Results;

namespace Crate.Host.Planning;

/// <summary>
/// Before anything runs: resolves every dataset the plan reads (a missing folder fails here, naming it) and
/// lets each task that implements <see cref="IDataFittedConfig"/> fit the config to its data, so keys the user
/// did not set (channels, classes, image size) follow the dataset and a contradiction is a config error. Such a
/// task's <see cref="IConfigChecker"/> checks the fitted config here (the planner leaves it to this step, since a
/// patch size set for the data's image size would fail against the preset's).
/// </summary>
public static class PlanDataFit
{
    /// <summary>The plan with fitted configs (and run keys over them) and the notes of every key that followed the data.</summary>
    public static (IReadOnlyList<PlannedRun> Plan, IReadOnlyList<string> Notes) Fit(IReadOnlyList<PlannedRun> plan, DataLocator data)
    {
        var fitted = new List<PlannedRun>(plan.Count);
        var notes = new List<string>();
        var cache = new Dictionary<(string Task, string Model, string Config), DataFit>();
        foreach (var run in plan)
        {
            var task = run.Task.Task;
            string DataDir(string name) => data.Resolve(task.Datasets.FirstOrDefault(d => d.Name == name)
                ?? throw new InvalidOperationException($"task '{task.Name}' requires dataset '{name}' but does not declare it in Datasets"));
            foreach (var name in task.RequiredDatasets(run.Config)) DataDir(name);
            if (task is not IDataFittedConfig fitter)
            {
                fitted.Add(run);
                continue;
            }
            var key = (task.Name, run.Model.Name, run.Config.ToJson());
            if (!cache.TryGetValue(key, out var fit))
            {
                try
                {
                    fit = fitter.FitToData(run.Config, run.ExplicitKeys, DataDir);
                    (task as IConfigChecker)?.CheckConfig(run.Model.Name, fit.Config);
                }
                catch (ConfigException e) { throw new ConfigException($"{task.Name}/{run.Model.Name}: {e.Message}"); }
                cache[key] = fit;
                notes.AddRange(fit.Notes.Select(n => $"{task.Name}/{run.Model.Name}: {n}"));
            }
            fitted.Add(run with { Config = fit.Config, Key = RunKeys.Compute(task.Name, run.Model.Name, fit.Config.ToJson(), run.Seed) });
        }
        return (fitted, notes);
    }
}
