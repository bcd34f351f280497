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

/// <summary>list, list models, list keys: the loaded tasks, named configurations and config keys.</summary>
public sealed partial class CliApp
{
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
}
