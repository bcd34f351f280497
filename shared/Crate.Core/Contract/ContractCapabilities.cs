using TorchSharp;

namespace Crate.Core.Contract;

/// <summary>
/// The metric that says whether a run learned anything, and what it would be by chance: e.g. top-1 accuracy
/// against 100 / classes %, or validation cross-entropy against ln(vocabulary) nats (a uniform guess).
/// Whether higher is better comes from the metric's <see cref="MetricInfo.HigherIsBetter"/>.
/// </summary>
/// <param name="Metric">A metric name from <see cref="ICrateTask.Metrics"/>.</param>
/// <param name="Chance">Its value for a model that has learned nothing (a uniform guess).</param>
/// <param name="Explanation">How <paramref name="Chance"/> is computed, e.g. "100 / 10 classes".</param>
/// <param name="TrainLossFalls">
/// Whether the training loss of a short run must fall. True for losses against fixed targets; false for
/// self-distillation (DINO), whose loss is measured against a moving, sharpening teacher and may rise while the
/// representation improves: then only <paramref name="Metric"/> shows learning.
/// </param>
public sealed record HeadlineMetric(string Metric, double Chance, string Explanation, bool TrainLossFalls = true);

/// <summary>
/// Capability (additive to contract version 2): the task names its headline metric and chance level for a
/// config, so the contract test (<c>tests/Crate.Tests/Contract/PluginContractTests.cs</c>) can check that a
/// smoke run beats chance. Every task should implement it; the contract test fails a task that does not.
/// </summary>
public interface IHeadlineMetric
{
    /// <summary>The headline metric of a run with <paramref name="config"/> and its chance level.</summary>
    HeadlineMetric Headline(ResolvedConfig config);
}

/// <summary>
/// Capability (additive to contract version 2): the task builds the module of a named configuration
/// (<see cref="ICrateTask.NamedConfigs"/>) on the CPU, so the contract test can check that the declared
/// parameter count is the built module's. Return null for a name the task cannot build.
/// </summary>
public interface INamedConfigBuilder
{
    /// <summary>The module of <paramref name="named"/>, built with the current torch seed; the caller disposes it.</summary>
    torch.nn.Module? BuildNamed(NamedModelConfig named);
}

/// <summary>A config fitted to the data it will read, with one note per key that followed the data.</summary>
/// <param name="Config">The config to run with.</param>
/// <param name="Notes">Human notes, e.g. "model.channels=3: dataset 'cifar10' is RGB".</param>
public sealed record DataFit(ResolvedConfig Config, IReadOnlyList<string> Notes);

/// <summary>
/// Capability (additive to contract version 2): keys that describe the data (channels, classes, a fixed image
/// size) follow the data folders unless the user set them. The host calls <see cref="FitToData"/> for every
/// planned run after resolving its datasets and before printing the plan or running anything, so a
/// contradiction is reported like any other config error (exit 2, nothing recorded), and the run key is
/// computed over the fitted config.
/// </summary>
public interface IDataFittedConfig
{
    /// <summary>
    /// Returns <paramref name="config"/> with the data-determined keys that are not in <paramref name="explicitKeys"/>
    /// (the keys the user set with <c>--set</c>) taken from the data in <paramref name="dataDirectory"/>; throws
    /// <see cref="ConfigException"/> naming the key, its value and the data's when an explicit key contradicts the data.
    /// </summary>
    DataFit FitToData(ResolvedConfig config, IReadOnlySet<string> explicitKeys, Func<string, string> dataDirectory);
}

/// <summary>
/// A relative claim of the paper for one metric: CRATE is within <paramref name="Margin"/> of the baseline or better,
/// i.e. CRATE − baseline ≥ −Margin for a metric where higher is better (≤ +Margin where lower is better), in the
/// metric's unit. The report checks it against the finished runs with the Welch interval of the difference:
/// reproduced when the whole interval satisfies it, contradicted when none of it does, inconclusive otherwise.
/// </summary>
/// <param name="Metric">The metric the claim is about (one of <see cref="ICrateTask.Metrics"/>).</param>
/// <param name="Margin">How far behind the baseline CRATE may be and still be "close" (0: at least as good).</param>
/// <param name="Statement">The claim in words, with where the margin comes from (a published gap, or this project's reading).</param>
/// <param name="Source">Where the paper makes it (docs/paper.md section).</param>
public sealed record PaperClaim(string Metric, double Margin, string Statement, string Source);

/// <summary>
/// Capability (contract version 3): the paper's relative claims for the task (CRATE close to its baseline), which the
/// host stores with every run and the report checks against the measured numbers, so that a reader sees per task which
/// claims the recipe reproduces and which it does not.
/// </summary>
public interface IPaperClaims
{
    /// <summary>The claims, in the order the report lists them.</summary>
    IReadOnlyList<PaperClaim> Claims { get; }
}
