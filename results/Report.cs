using Crate.Core.Contract;

namespace Crate.Results;

/// <summary>Mean, sample standard deviation (null below two values) and count of one metric over seeds.</summary>
public sealed record Aggregate(double Mean, double? Std, int N)
{
    /// <summary>Aggregates <paramref name="values"/>; null when there are none.</summary>
    public static Aggregate? Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            return null;
        var mean = values.Average();
        double? std = values.Count < 2 ? null
            : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new Aggregate(mean, std, values.Count);
    }
}

/// <summary>
/// One metric of one (task, preset, CRATE model, baseline model) over the finished seeds of each side,
/// with the paper's values beside it. <see cref="Difference"/> is CRATE − baseline of the means and
/// <see cref="DifferenceInterval"/> its 95 % Welch interval (null with fewer than two seeds on a side).
/// <see cref="HigherIsBetter"/> and <see cref="Description"/> come from the plugin's metric list; a metric
/// the plugin did not describe has null and empty.
/// </summary>
public sealed record SummaryRow(
    string Task,
    string Preset,
    string Metric,
    string Description,
    string Unit,
    bool? HigherIsBetter,
    string CrateModel,
    Aggregate? Crate,
    string BaselineModel,
    Aggregate? Baseline,
    double? Difference,
    double? PaperCrate,
    double? PaperBaseline,
    string PaperCrateConfig,
    string PaperBaselineConfig,
    string Note,
    WelchInterval? DifferenceInterval = null);

/// <summary>One metric value of a run, with its unit.</summary>
public sealed record MetricValue(string Name, string Unit, double Value);

/// <summary>One value of one metric at one evaluation of one run (<see cref="Report.Curves"/>).</summary>
public sealed record CurvePoint(
    string RunKey,
    string Task,
    string Preset,
    string Model,
    ModelRole Role,
    int Seed,
    string Phase,
    long Step,
    int Epoch,
    string Metric,
    double Value);

/// <summary>One run for the per-run table, with its metrics in report order.</summary>
public sealed record RunRow(
    string RunKey,
    string Task,
    string Preset,
    string Model,
    ModelRole Role,
    int Seed,
    RunStatus Status,
    IReadOnlyList<MetricValue> Metrics,
    double TrainSeconds,
    string Code,
    string? Error,
    DateTime? StartedUtc,
    DateTime? FinishedUtc);

/// <summary>
/// One white-box measure of one layer of one (task, preset, CRATE model, split), aggregated over the finished
/// seeds: the per-run value is the run's mean over its measured samples (docs/paper.md §4).
/// </summary>
public sealed record WhiteBoxSummaryRow(string Task, string Preset, string Model, string Split, string Measure, int Layer, Aggregate Value);

/// <summary>A file to link from the report: a run's artifact or a plot the report made. <see cref="Path"/> is absolute or relative to the working folder.</summary>
public sealed record ReportArtifact(string Task, string Title, string Path, string Description);

/// <summary>
/// Aggregation over seeds. Only <see cref="RunStatus.Finished"/> runs are aggregated: per task and
/// preset, each CRATE model is set against each baseline model; per metric, each side gets mean,
/// sample standard deviation and n over its seeds.
/// </summary>
public static class Report
{
    /// <summary>The summary table: ordered by task, preset, CRATE model, baseline model, then the task's metric order.</summary>
    public static IReadOnlyList<SummaryRow> Summarise(IEnumerable<RunRecord> runs)
    {
        var rows = new List<SummaryRow>();
        var finished = runs.Where(r => r.Status == RunStatus.Finished).ToList();
        foreach (var group in finished.GroupBy(r => (r.Task, r.Preset))
                     .OrderBy(g => g.Key.Task, StringComparer.Ordinal).ThenBy(g => g.Key.Preset, StringComparer.Ordinal))
        {
            var crateModels = ModelsOf(group, ModelRole.Crate);
            var baselineModels = ModelsOf(group, ModelRole.Baseline);
            foreach (var crate in crateModels.DefaultIfEmpty(""))
                foreach (var baseline in baselineModels.DefaultIfEmpty(""))
                    rows.AddRange(Compare(group.Key.Task, group.Key.Preset, group.ToList(), crate, baseline));
        }
        return rows;
    }

    /// <summary>Every run (any status), ordered by task, preset, role (CRATE first), model and seed.</summary>
    public static IReadOnlyList<RunRow> PerRun(IEnumerable<RunRecord> runs) =>
        PerRunOrder(runs)
            .Select(r => new RunRow(r.Id, r.Task, r.Preset, r.Model, r.Role, r.Seed, r.Status,
                MetricOrder([r]).Where(m => r.Metrics.ContainsKey(m.Name))
                    .Select(m => new MetricValue(m.Name, m.Unit, r.Metrics[m.Name])).ToList(),
                r.TrainSeconds, r.Code.Short(), r.Error, r.StartedUtc, r.FinishedUtc))
            .ToList();

    /// <summary>
    /// Every evaluation row of every run as long-format points (one per run, phase, step and metric), in the
    /// per-run order and each run's training order: what <c>report --curves</c> exports, like MLflow's metric history.
    /// </summary>
    public static IReadOnlyList<CurvePoint> Curves(IEnumerable<RunRecord> runs, Func<string, IReadOnlyList<EpochRow>> rows) =>
        PerRunOrder(runs).SelectMany(r => rows(r.Id).SelectMany(row => row.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal)
                .Select(m => new CurvePoint(r.Id, r.Task, r.Preset, r.Model, r.Role, r.Seed, row.Phase, row.Step, row.Epoch, m.Key, m.Value))))
            .ToList();

    /// <summary>The artifacts of the finished <paramref name="runs"/>, as paths under each run's folder.</summary>
    public static IReadOnlyList<ReportArtifact> Artifacts(IEnumerable<RunRecord> runs) =>
        PerRunOrder(runs.Where(r => r.Status == RunStatus.Finished)).SelectMany(r => r.Artifacts.Select(a => new ReportArtifact(
                r.Task, $"{a.Name} ({r.Model}, {r.Preset}, seed {r.Seed})",
                Path.Combine(r.RunDirectory, a.RelativePath), a.Description)))
            .ToList();

    private static IEnumerable<RunRecord> PerRunOrder(IEnumerable<RunRecord> runs) =>
        runs.OrderBy(r => r.Task, StringComparer.Ordinal).ThenBy(r => r.Preset, StringComparer.Ordinal)
            .ThenBy(r => r.Role).ThenBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Seed)
            .ThenBy(r => r.Id, StringComparer.Ordinal);

    private static List<string> ModelsOf(IEnumerable<RunRecord> runs, ModelRole role) =>
        runs.Where(r => r.Role == role).Select(r => r.Model).Distinct().Order(StringComparer.Ordinal).ToList();

    private static IEnumerable<SummaryRow> Compare(string task, string preset, List<RunRecord> runs, string crate, string baseline)
    {
        var crateRuns = runs.Where(r => r.Role == ModelRole.Crate && r.Model == crate).ToList();
        var baselineRuns = runs.Where(r => r.Role == ModelRole.Baseline && r.Model == baseline).ToList();
        var paper = runs.SelectMany(r => r.PaperValues).ToList();
        var datasets = runs.Select(r => r.Dataset).Where(d => !string.IsNullOrEmpty(d)).Distinct().ToList();
        var ours = (datasets.Count > 0 ? string.Join(" / ", datasets) : task) + " " + preset;
        foreach (var metric in MetricOrder(crateRuns.Concat(baselineRuns)))
        {
            var crateAggregate = Aggregate.Of(ValuesOf(crateRuns, metric.Name));
            var baselineAggregate = Aggregate.Of(ValuesOf(baselineRuns, metric.Name));
            if (crateAggregate is null && baselineAggregate is null)
                continue;
            var paperCrate = paper.FirstOrDefault(p => p.Model == crate && p.Metric == metric.Name);
            var paperBaseline = paper.FirstOrDefault(p => p.Model == baseline && p.Metric == metric.Name);
            yield return new SummaryRow(task, preset, metric.Name, metric.Description, metric.Unit, metric.HigherIsBetter,
                crate, crateAggregate, baseline, baselineAggregate,
                crateAggregate is not null && baselineAggregate is not null ? crateAggregate.Mean - baselineAggregate.Mean : null,
                paperCrate?.Value, paperBaseline?.Value, paperCrate?.Config ?? "", paperBaseline?.Config ?? "",
                Join(Note(paperCrate, paperBaseline, ours), Pooled(crateRuns, baselineRuns)),
                crateAggregate is not null && baselineAggregate is not null ? WelchInterval.Of(crateAggregate, baselineAggregate) : null);
        }
    }

    /// <summary>
    /// The white-box measurements of the finished CRATE runs, per (task, preset, model, split, measure, layer),
    /// mean ± std over seeds of each run's value. <paramref name="whiteBox"/> reads a run's rows (from the store).
    /// </summary>
    public static IReadOnlyList<WhiteBoxSummaryRow> WhiteBox(IEnumerable<RunRecord> runs, Func<string, IReadOnlyList<WhiteBoxRow>> whiteBox)
    {
        var rows = PerRunOrder(runs.Where(r => r.Status == RunStatus.Finished && r.Role == ModelRole.Crate))
            .SelectMany(r => whiteBox(r.Id).Select(w => (Run: r, Row: w)));
        return rows.GroupBy(x => (x.Run.Task, x.Run.Preset, x.Run.Model, x.Row.Split, x.Row.Measure, x.Row.Layer))
            .OrderBy(g => g.Key.Task, StringComparer.Ordinal).ThenBy(g => g.Key.Preset, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Model, StringComparer.Ordinal).ThenBy(g => g.Key.Split, StringComparer.Ordinal)
            .ThenBy(g => g.Key.Measure, StringComparer.Ordinal).ThenBy(g => g.Key.Layer)
            .Select(g => new WhiteBoxSummaryRow(g.Key.Task, g.Key.Preset, g.Key.Model, g.Key.Split, g.Key.Measure, g.Key.Layer,
                Aggregate.Of(g.OrderBy(x => x.Run.Seed).Select(x => x.Row.Mean).ToList())!))
            .ToList();
    }

    private static List<double> ValuesOf(IEnumerable<RunRecord> runs, string metric) =>
        runs.Where(r => r.Metrics.ContainsKey(metric)).OrderBy(r => r.Seed).Select(r => r.Metrics[metric]).ToList();

    /// <summary>"paper: CRATE-T, ImageNet-1K / ViT-T, ImageNet-1K; ours: Fashion-MNIST small", or empty without paper values.</summary>
    private static string Note(PaperValueRecord? crate, PaperValueRecord? baseline, string ours)
    {
        var configs = new[] { crate?.Config, baseline?.Config }.Where(c => !string.IsNullOrEmpty(c)).Distinct().ToList();
        return configs.Count == 0 ? "" : $"paper: {string.Join(" / ", configs)}; ours: {ours}";
    }

    /// <summary>
    /// A warning when one side pools seeds of different configurations (runs of one preset started with
    /// different <c>--set</c> values): "pooled: 2 configs of crate". Empty when each side has one.
    /// </summary>
    private static string Pooled(List<RunRecord> crateRuns, List<RunRecord> baselineRuns)
    {
        var parts = new[] { crateRuns, baselineRuns }
            .Where(side => side.Count > 0)
            .Select(side => (Model: side[0].Model, Configs: side.Select(r => r.ConfigJson).Distinct(StringComparer.Ordinal).Count()))
            .Where(x => x.Configs > 1)
            .Select(x => $"{x.Configs} configs of {x.Model}")
            .ToList();
        return parts.Count == 0 ? "" : $"pooled: {string.Join(", ", parts)} (runs started with different --set values; see report --runs)";
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : $"{a}; {b}";

    private sealed record MetricSpec(string Name, string Description, string Unit, bool? HigherIsBetter);

    /// <summary>The metrics of <paramref name="runs"/>: described ones in the task's order, then undescribed ones by name.</summary>
    private static List<MetricSpec> MetricOrder(IEnumerable<RunRecord> runs)
    {
        var list = runs.ToList();
        var described = list.SelectMany(r => r.MetricInfo).DistinctBy(m => m.Name)
            .Select(m => new MetricSpec(m.Name, m.Description, m.Unit, m.HigherIsBetter)).ToList();
        var undescribed = list.SelectMany(r => r.Metrics.Keys).Distinct()
            .Where(name => described.All(m => m.Name != name)).Order(StringComparer.Ordinal)
            .Select(name => new MetricSpec(name, "", "", null));
        return described.Concat(undescribed).ToList();
    }
}
