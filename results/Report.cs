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
    WelchInterval? DifferenceInterval = null,
    bool IsControl = false);

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

/// <summary>
/// One control comparison (what pre-training added) of one model of one (task, preset): the treated metric
/// (<see cref="Metric"/>, e.g. <c>linear_top1</c>) against its control (<see cref="ControlMetric"/>, e.g.
/// <c>init_linear_top1</c>, of kind <see cref="Kind"/>: initialisation, from scratch, raw input), over the finished
/// seeds that report both. <see cref="Delta"/> aggregates treated − control per seed and <see cref="Interval"/> is its
/// paired 95 % interval (null below two seeds).
/// </summary>
public sealed record ControlRow(
    string Task,
    string Preset,
    string Model,
    ModelRole Role,
    string Metric,
    string ControlMetric,
    string Kind,
    string Unit,
    bool? HigherIsBetter,
    Aggregate Treated,
    Aggregate Control,
    Aggregate Delta,
    PairedInterval? Interval);

/// <summary>How a paper's claim fares against the measured runs (<see cref="Report.Claims"/>).</summary>
public enum ClaimVerdict
{
    /// <summary>The whole 95 % interval of CRATE − baseline satisfies the claim.</summary>
    Reproduced,
    /// <summary>No part of the interval satisfies it.</summary>
    NotReproduced,
    /// <summary>The interval straddles the claim's bound: more seeds (or a larger recipe) would decide.</summary>
    Inconclusive,
    /// <summary>A side has one seed: no interval exists, only the point difference.</summary>
    OneSeed,
}

/// <summary>
/// One paper claim (<see cref="PaperClaim"/>) checked against one (task, preset, CRATE model, baseline model): the
/// measured difference CRATE − baseline with its Welch interval, and the verdict.
/// </summary>
public sealed record ClaimRow(
    string Task,
    string Preset,
    string CrateModel,
    string BaselineModel,
    string Metric,
    string Unit,
    bool HigherIsBetter,
    double Margin,
    string Statement,
    string Source,
    double Difference,
    WelchInterval? Interval,
    ClaimVerdict Verdict);

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
                crateAggregate is not null && baselineAggregate is not null ? WelchInterval.Of(crateAggregate, baselineAggregate) : null,
                metric.IsControl);
        }
    }

    /// <summary>
    /// The paper's claims stored with the runs (<see cref="RunRecord.Claims"/>), each checked against the summary row of
    /// its metric: with higher better the claim holds where CRATE − baseline ≥ −margin (lower better: ≤ +margin); it is
    /// reproduced when the whole Welch interval holds it, not reproduced when none of it does.
    /// </summary>
    public static IReadOnlyList<ClaimRow> Claims(IEnumerable<RunRecord> runs, IReadOnlyList<SummaryRow> summary)
    {
        var claims = runs.Where(r => r.Status == RunStatus.Finished).GroupBy(r => r.Task)
            .ToDictionary(g => g.Key, g => g.SelectMany(r => r.Claims).DistinctBy(c => (c.Metric, c.Statement)).ToList());
        var rows = new List<ClaimRow>();
        foreach (var row in summary)
        {
            if (row.Difference is not { } difference || !claims.TryGetValue(row.Task, out var list)) continue;
            foreach (var claim in list.Where(c => c.Metric == row.Metric))
            {
                bool up = row.HigherIsBetter ?? true;
                bool Holds(double delta) => up ? delta >= -claim.Margin : delta <= claim.Margin;
                var verdict = row.DifferenceInterval is not { } ci ? ClaimVerdict.OneSeed
                    : Holds(ci.Low) && Holds(ci.High) ? ClaimVerdict.Reproduced
                    : !Holds(ci.Low) && !Holds(ci.High) ? ClaimVerdict.NotReproduced
                    : ClaimVerdict.Inconclusive;
                rows.Add(new ClaimRow(row.Task, row.Preset, row.CrateModel, row.BaselineModel, row.Metric, row.Unit, up, claim.Margin,
                    claim.Statement, claim.Source, difference, row.DifferenceInterval, verdict));
            }
        }
        return rows;
    }

    /// <summary>
    /// The control comparisons of the finished runs: per (task, preset, model) and every metric the task declares as
    /// the control of another (<see cref="MetricInfo.Control"/>), treated − control paired by seed. Ordered by task,
    /// preset, role (CRATE first), model, then the task's metric order of the treated metric.
    /// </summary>
    public static IReadOnlyList<ControlRow> Controls(IEnumerable<RunRecord> runs)
    {
        var rows = new List<ControlRow>();
        var finished = runs.Where(r => r.Status == RunStatus.Finished).ToList();
        foreach (var group in finished.GroupBy(r => (r.Task, r.Preset, r.Role, r.Model))
                     .OrderBy(g => g.Key.Task, StringComparer.Ordinal).ThenBy(g => g.Key.Preset, StringComparer.Ordinal)
                     .ThenBy(g => g.Key.Role).ThenBy(g => g.Key.Model, StringComparer.Ordinal))
        {
            var list = group.OrderBy(r => r.Seed).ToList();
            var order = MetricOrder(list);
            var controls = list.SelectMany(r => r.MetricInfo).Where(m => m.ControlOf is not null).DistinctBy(m => m.Name).ToList();
            foreach (var control in controls.OrderBy(c => order.FindIndex(m => m.Name == c.ControlOf)).ThenBy(c => c.ControlKind, StringComparer.Ordinal))
            {
                var pairs = list.Where(r => r.Metrics.ContainsKey(control.Name) && r.Metrics.ContainsKey(control.ControlOf!))
                    .Select(r => (Treated: r.Metrics[control.ControlOf!], Control: r.Metrics[control.Name])).ToList();
                if (pairs.Count == 0)
                    continue;
                var treated = order.FirstOrDefault(m => m.Name == control.ControlOf);
                var deltas = pairs.Select(p => p.Treated - p.Control).ToList();
                rows.Add(new ControlRow(group.Key.Task, group.Key.Preset, group.Key.Model, group.Key.Role, control.ControlOf!, control.Name,
                    control.ControlKind ?? "", treated?.Unit ?? control.Unit, treated?.HigherIsBetter ?? control.HigherIsBetter,
                    Aggregate.Of(pairs.Select(p => p.Treated).ToList())!, Aggregate.Of(pairs.Select(p => p.Control).ToList())!,
                    Aggregate.Of(deltas)!, PairedInterval.Of(deltas)));
            }
        }
        return rows;
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

    private sealed record MetricSpec(string Name, string Description, string Unit, bool? HigherIsBetter, bool IsControl = false);

    /// <summary>The metrics of <paramref name="runs"/>: described ones in the task's order, then undescribed ones by name.</summary>
    private static List<MetricSpec> MetricOrder(IEnumerable<RunRecord> runs)
    {
        var list = runs.ToList();
        var described = list.SelectMany(r => r.MetricInfo).DistinctBy(m => m.Name)
            .Select(m => new MetricSpec(m.Name, m.Description, m.Unit, m.HigherIsBetter, m.ControlOf is not null)).ToList();
        var undescribed = list.SelectMany(r => r.Metrics.Keys).Distinct()
            .Where(name => described.All(m => m.Name != name)).Order(StringComparer.Ordinal)
            .Select(name => new MetricSpec(name, "", "", null));
        return described.Concat(undescribed).ToList();
    }
}
