using System.Globalization;
using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Host.Plugins;
using Crate.Host.Running;
using Crate.Tests.Host;

namespace Crate.Tests.Contract;

/// <summary>
/// The plugins as the host sees them: every task the <see cref="PluginCatalog"/> discovers in the host's output
/// <c>plugins/</c> folder and in the sample plugin's build folder (the same paths the end-to-end tests use).
/// </summary>
public static class DiscoveredPlugins
{
    private static readonly Lazy<PluginCatalog> Lazy = new(() =>
        PluginCatalog.Discover([Path.Combine(HostProcess.HostDir, "plugins"), HostProcess.SampleDir], includeDefault: false));

    /// <summary>The catalog, discovered once per test process.</summary>
    public static PluginCatalog Catalog => Lazy.Value;

    /// <summary>Every discovered task name, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> TaskNames => new(Catalog.Tasks.Select(t => t.Task.Name));

    /// <summary>Every (task, model) pair, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string, string> TaskModels
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var t in Catalog.Tasks)
                foreach (var m in t.Task.Models) data.Add(t.Task.Name, m.Name);
            return data;
        }
    }

    /// <summary>The task named <paramref name="name"/>.</summary>
    public static ICrateTask Task(string name) => Catalog.Get(name).Task;
}

/// <summary>
/// The checks every plugin must pass, each returning the problems found (empty: the plugin keeps the contract).
/// Messages start with the plugin's name so a failure in a theory over all plugins says whose it is.
/// </summary>
public static class PluginContractChecks
{
    /// <summary>Largest named configuration the contract test builds to count (bigger ones cost seconds of initialisation each).</summary>
    public const long BuildLimit = 30_000_000;

    /// <summary>smoke, small and paper exist, resolve for every model and give a valid trainer recipe; per-model values name declared models.</summary>
    public static List<string> Presets(ICrateTask task)
    {
        var problems = new List<string>();
        foreach (var required in new[] { "smoke", "small", "paper" })
            if (task.Presets.All(p => p.Name != required)) problems.Add($"{task.Name}: no preset '{required}'");
        var models = task.Models.Select(m => m.Name).ToHashSet();
        foreach (var preset in task.Presets)
        {
            foreach (var own in preset.PerModel.Keys.Where(k => !models.Contains(k)))
                problems.Add($"{task.Name}: preset '{preset.Name}' has values for model '{own}', which the task does not declare ({string.Join(", ", models)})");
            foreach (var model in task.Models)
            {
                try { TrainerOptions.FromConfig(task.Schema.Resolve(preset.ValuesFor(model.Name))).Validate(); }
                catch (Exception e) { problems.Add($"{task.Name}: preset '{preset.Name}' for model '{model.Name}' does not resolve: {e.Message}"); }
            }
        }
        return problems;
    }

    /// <summary>
    /// Names refer to declared things: a CRATE and a baseline model; unique metric names; paper values name a
    /// declared model and metric; control metrics stand in for a declared treated metric of the same unit and direction;
    /// the paper's claims name declared metrics; the datasets each preset needs are declared; the headline metric is
    /// declared; named configurations name declared models.
    /// </summary>
    public static List<string> Declarations(ICrateTask task)
    {
        var problems = new List<string>();
        var models = task.Models.Select(m => m.Name).ToHashSet();
        var metrics = task.Metrics.Select(m => m.Name).ToList();
        var datasets = task.Datasets.Select(d => d.Name).ToHashSet();
        if (task.Models.All(m => m.Role != ModelRole.Crate)) problems.Add($"{task.Name}: no model with role Crate");
        if (task.Models.All(m => m.Role != ModelRole.Baseline)) problems.Add($"{task.Name}: no model with role Baseline");
        foreach (var dup in metrics.GroupBy(m => m).Where(g => g.Count() > 1))
            problems.Add($"{task.Name}: metric '{dup.Key}' is declared {dup.Count()} times");
        foreach (var p in task.PaperValues)
        {
            if (!models.Contains(p.Model)) problems.Add($"{task.Name}: paper value {p.Value} ({p.Metric}) names model '{p.Model}', which is not declared");
            if (!metrics.Contains(p.Metric)) problems.Add($"{task.Name}: paper value {p.Value} for '{p.Model}' names metric '{p.Metric}', which is not declared");
        }
        foreach (var m in task.Metrics.Where(m => m.Control is not null))
        {
            var treated = task.Metrics.FirstOrDefault(t => t.Name == m.Control!.Of);
            if (treated is null) problems.Add($"{task.Name}: control metric '{m.Name}' stands in for '{m.Control!.Of}', which is not declared");
            else if (treated.Control is not null) problems.Add($"{task.Name}: control metric '{m.Name}' stands in for '{treated.Name}', itself a control");
            else if (treated.HigherIsBetter != m.HigherIsBetter || treated.Unit != m.Unit)
                problems.Add($"{task.Name}: control metric '{m.Name}' and '{treated.Name}' differ in unit or direction");
        }
        if (task is IPaperClaims claims)
            foreach (var c in claims.Claims)
            {
                if (!metrics.Contains(c.Metric)) problems.Add($"{task.Name}: claim '{c.Statement}' is about metric '{c.Metric}', which is not declared");
                if (!(c.Margin >= 0)) problems.Add($"{task.Name}: claim on '{c.Metric}' has margin {c.Margin} (must be ≥ 0)");
                if (c.Statement.Length == 0 || c.Source.Length == 0) problems.Add($"{task.Name}: claim on '{c.Metric}' needs a statement and a source");
            }
        foreach (var n in task.NamedConfigs.Where(n => !models.Contains(n.Model)))
            problems.Add($"{task.Name}: named configuration '{n.Name}' is for model '{n.Model}', which is not declared");
        foreach (var preset in task.Presets)
            foreach (var model in task.Models)
            {
                ResolvedConfig config;
                try { config = task.Schema.Resolve(preset.ValuesFor(model.Name)); }
                catch (ConfigException) { continue; }   // reported by Presets
                foreach (var d in task.RequiredDatasets(config).Where(d => !datasets.Contains(d)))
                    problems.Add($"{task.Name}: preset '{preset.Name}' for model '{model.Name}' requires dataset '{d}', which is not in Datasets");
                if (task is not IHeadlineMetric headline)
                    continue;
                var h = headline.Headline(config);
                if (!metrics.Contains(h.Metric))
                    problems.Add($"{task.Name}: headline metric '{h.Metric}' is not declared");
                if (!double.IsFinite(h.Chance)) problems.Add($"{task.Name}: chance level of '{h.Metric}' is {h.Chance}");
            }
        if (task is not IHeadlineMetric)
            problems.Add($"{task.Name}: does not implement IHeadlineMetric (its headline metric and chance level, Contract/ContractCapabilities.cs)");
        return problems;
    }

    /// <summary>Each named configuration the task can build (up to <see cref="BuildLimit"/> parameters) declares the built module's parameter count.</summary>
    public static List<string> NamedConfigCounts(ICrateTask task, out int built)
    {
        var problems = new List<string>();
        built = 0;
        if (task is not INamedConfigBuilder builder) return problems;
        foreach (var named in task.NamedConfigs.Where(n => n.Parameters <= BuildLimit))
        {
            using var module = builder.BuildNamed(named);
            if (module is null) continue;
            built++;
            long count = module.parameters().Sum(p => p.numel());
            if (count != named.Parameters)
                problems.Add($"{task.Name}: named configuration '{named.Name}' declares {named.Parameters:N0} parameters, the built module has {count:N0}");
        }
        return problems;
    }

    /// <summary>What a smoke run left: the result and every evaluation row.</summary>
    public sealed record SmokeRun(string Task, string Model, ResolvedConfig Config, RunResult Result, IReadOnlyList<EpochRow> Rows);

    /// <summary>
    /// Runs the smoke preset of <paramref name="model"/> through <see cref="ICrateTask.Run"/> in a
    /// <see cref="LocalRunContext"/> with the host's folder layout under <paramref name="outDir"/>, datasets
    /// resolved as the host resolves them (shipped defaults under <c>data/</c>, then system paths) and the config
    /// fitted to them (<see cref="IDataFittedConfig"/>) as the host fits it.
    /// </summary>
    public static SmokeRun RunSmoke(ICrateTask task, string model, string outDir)
    {
        var config = task.Schema.Resolve(task.Presets.Single(p => p.Name == "smoke").ValuesFor(model));
        var locator = new DataLocator(new Dictionary<string, string>());
        string Data(string name) => locator.Resolve(task.Datasets.FirstOrDefault(d => d.Name == name) ?? new DatasetNeed(name, name, null));
        if (task is IDataFittedConfig fitter) config = fitter.FitToData(config, new HashSet<string>(), Data).Config;
        // As the host does (PlanRunner.LibTorchRetries), one more attempt when libtorch fails the run: TorchSharp 0.107 can
        // free a temporary Scalar that libtorch still reads, and this process runs on the system allocator, under which
        // that shows as a libtorch error (README "Known issues"). A fault of the plugin fails both attempts.
        for (int attempt = 1; ; attempt++)
        {
            string dir = Path.Combine(outDir, task.Name, model, $"seed0-contract-{attempt}");
            using var ctx = new LocalRunContext(dir, seed: 0, config)
            {
                Task = task.Name, Model = model, Preset = "smoke", DataDirectories = Data, KeepProgress = false,
            };
            try
            {
                TorchSharp.torch.manual_seed(0);   // as the host seeds each run before Run
                var result = task.Run(ctx);
                return new SmokeRun(task.Name, model, config, result, ctx.Epochs.ToList());
            }
            catch (System.Runtime.InteropServices.ExternalException e) when (attempt == 1)
            {
                Console.Error.WriteLine($"{task.Name}/{model}: libtorch failed the smoke run ({e.Message.Split('\n')[0]}); running it once more");
            }
        }
    }

    /// <summary>
    /// A smoke run returns every declared metric (finite), its training loss falls from the first to the last
    /// evaluation of its first phase (unless its headline says the loss chases a moving target, as DINO's), and its
    /// headline metric beats chance.
    /// </summary>
    public static List<string> SmokeResult(ICrateTask task, SmokeRun run)
    {
        var problems = new List<string>();
        string who = $"{task.Name}/{run.Model}";
        foreach (var metric in task.Metrics)
        {
            if (!run.Result.Metrics.TryGetValue(metric.Name, out double value))
                problems.Add($"{who}: declared metric '{metric.Name}' is not in the run's result ({string.Join(", ", run.Result.Metrics.Keys.Order())})");
            else if (!double.IsFinite(value))
                problems.Add($"{who}: metric '{metric.Name}' is {value}");
        }

        var phase = run.Rows.FirstOrDefault()?.Phase;
        var rows = run.Rows.Where(r => r.Phase == phase && r.Metrics.ContainsKey("train_loss")).ToList();
        bool lossMustFall = task is not IHeadlineMetric h || h.Headline(run.Config).TrainLossFalls;
        if (lossMustFall && rows.Count < 2)
            problems.Add($"{who}: the smoke run left {rows.Count} evaluation row(s) with train_loss in its first phase; it needs two to show learning");
        else if (lossMustFall && !(rows[^1].Metrics["train_loss"] < rows[0].Metrics["train_loss"]))
            problems.Add($"{who}: train_loss did not fall: {F(rows[0].Metrics["train_loss"])} at step {rows[0].Step}, {F(rows[^1].Metrics["train_loss"])} at step {rows[^1].Step}");

        if (task is IHeadlineMetric capability)
        {
            var headline = capability.Headline(run.Config);
            var info = task.Metrics.FirstOrDefault(m => m.Name == headline.Metric);
            if (info is not null && run.Result.Metrics.TryGetValue(headline.Metric, out double value))
            {
                bool beats = info.HigherIsBetter ? value > headline.Chance : value < headline.Chance;
                if (!beats)
                    problems.Add($"{who}: headline metric '{headline.Metric}' = {F(value)} does not beat chance {F(headline.Chance)} ({headline.Explanation})");
            }
        }
        return problems;
    }

    private static string F(double v) => v.ToString("G5", CultureInfo.InvariantCulture);
}
