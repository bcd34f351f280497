using Crate.Core.Contract;

namespace Crate.Tests.Contract;

/// <summary>
/// One contract test over every plugin the host discovers (as timm's test_models.py runs one test over every
/// registered model): declarations that refer to declared things, presets that resolve, parameter counts
/// that match the built modules, and a smoke run on the shipped data that returns every declared metric,
/// lowers its training loss and beats chance on its headline metric.
/// </summary>
public sealed class PluginContractTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), "crate-contract-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Every discovered task name.</summary>
    public static TheoryData<string> Tasks => DiscoveredPlugins.TaskNames;

    /// <summary>Every discovered (task, model).</summary>
    public static TheoryData<string, string> TaskModels => DiscoveredPlugins.TaskModels;

    [Fact]
    public void The_host_discovers_the_shipped_plugins_and_the_sample_without_failures()
    {
        Assert.Empty(DiscoveredPlugins.Catalog.Failures.Select(f => $"{f.Path}: {f.Reason}"));
        var names = DiscoveredPlugins.Catalog.Tasks.Select(t => t.Task.Name).ToList();
        Assert.Contains("vit", names);
        Assert.Contains("gpt2", names);
        Assert.Contains("sample", names);
    }

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Presets_resolve_and_validate(string task) =>
        AssertNone(PluginContractChecks.Presets(DiscoveredPlugins.Task(task)));

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Declarations_refer_to_declared_models_metrics_and_datasets(string task) =>
        AssertNone(PluginContractChecks.Declarations(DiscoveredPlugins.Task(task)));

    [Theory]
    [MemberData(nameof(Tasks))]
    public void Named_configs_declare_the_built_modules_parameter_count(string task)
    {
        var problems = PluginContractChecks.NamedConfigCounts(DiscoveredPlugins.Task(task), out int built);
        AssertNone(problems);
        if (task is "vit" or "gpt2" or "sample") Assert.True(built > 0, $"{task}: no named configuration was built");
    }

    [Theory]
    [MemberData(nameof(TaskModels))]
    public void Smoke_run_returns_every_metric_learns_and_beats_chance(string task, string model)
    {
        var plugin = DiscoveredPlugins.Task(task);
        var run = PluginContractChecks.RunSmoke(plugin, model, _out);
        AssertNone(PluginContractChecks.SmokeResult(plugin, run));
    }

    [Fact]
    public void A_plugin_that_never_returns_a_declared_metric_fails_naming_the_plugin_and_the_metric()
    {
        var broken = new MetricLessTask(DiscoveredPlugins.Task("sample"));
        Assert.Empty(PluginContractChecks.Declarations(broken));          // it declares the metric properly ...
        var run = PluginContractChecks.RunSmoke(broken, "crate", _out);
        var problems = PluginContractChecks.SmokeResult(broken, run);     // ... but never reports it
        var problem = Assert.Single(problems);
        Assert.StartsWith("sample-broken/crate: declared metric 'calibration_error' is not in the run's result", problem);
    }

    [Fact]
    public void A_headline_that_does_not_beat_chance_and_a_loss_that_does_not_fall_are_reported()
    {
        var task = DiscoveredPlugins.Task("sample");
        var config = task.Schema.Resolve(task.Presets.Single(p => p.Name == "smoke").ValuesFor("crate"));
        var metrics = task.Metrics.ToDictionary(m => m.Name, _ => 1.0);
        metrics["accuracy"] = 25.0;                                        // 4 classes: chance is 25 %
        var rows = new[]
        {
            new EpochRow(1, 8, new Dictionary<string, double> { ["train_loss"] = 1.2 }, "pretrain"),
            new EpochRow(2, 16, new Dictionary<string, double> { ["train_loss"] = 1.3 }, "pretrain"),
            new EpochRow(1, 4, new Dictionary<string, double> { ["train_loss"] = 0.1 }, "finetune"),
        };
        var run = new PluginContractChecks.SmokeRun("sample", "crate", config, new RunResult(metrics, [], []), rows);
        var problems = PluginContractChecks.SmokeResult(task, run);
        Assert.Equal(2, problems.Count);
        Assert.Equal("sample/crate: train_loss did not fall: 1.2 at step 8, 1.3 at step 16", problems[0]);
        Assert.Equal("sample/crate: headline metric 'accuracy' = 25 does not beat chance 25 (100 % / 4 classes)", problems[1]);
    }

    private static void AssertNone(List<string> problems) =>
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));

    public void Dispose()
    {
        try { Directory.Delete(_out, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    /// <summary>The sample task under another name, declaring a metric it never returns.</summary>
    private sealed class MetricLessTask(ICrateTask inner) : ICrateTask, IHeadlineMetric
    {
        public string Name => "sample-broken";
        public string Title => inner.Title;
        public IReadOnlyList<ModelInfo> Models => inner.Models;
        public ConfigSchema Schema => inner.Schema;
        public IReadOnlyList<Preset> Presets => inner.Presets;
        public IReadOnlyList<DatasetNeed> Datasets => inner.Datasets;
        public IReadOnlyList<string> RequiredDatasets(ResolvedConfig config) => inner.RequiredDatasets(config);
        public IReadOnlyList<MetricInfo> Metrics => [.. inner.Metrics, new("calibration_error", "declared, never returned", false)];
        public IReadOnlyList<PaperReference> PaperValues => inner.PaperValues;
        public IReadOnlyList<NamedModelConfig> NamedConfigs => inner.NamedConfigs;
        public RunResult Run(IRunContext context) => inner.Run(context);
        public HeadlineMetric Headline(ResolvedConfig config) => ((IHeadlineMetric)inner).Headline(config);
    }
}
