using CsvHelper;

namespace Crate.Results;

/// <summary>
/// One row of the summary CSV. Column order (stable; new columns are only ever appended):
/// task, preset, metric, unit, higher_is_better, crate_model, crate_mean, crate_std, crate_n,
/// baseline_model, baseline_mean, baseline_std, baseline_n, difference, paper_crate, paper_baseline,
/// paper_crate_config, paper_baseline_config, note, difference_ci95_low, difference_ci95_high (Welch's 95 %
/// interval of the difference; empty with fewer than two seeds on a side). Empty fields are missing values.
/// </summary>
[CsvRecord]
public sealed partial class SummaryCsvRow
{
    [CsvColumn("task")] public string Task { get; set; } = "";
    [CsvColumn("preset")] public string Preset { get; set; } = "";
    [CsvColumn("metric")] public string Metric { get; set; } = "";
    [CsvColumn("unit")] public string Unit { get; set; } = "";
    [CsvColumn("higher_is_better")] public bool? HigherIsBetter { get; set; }
    [CsvColumn("crate_model")] public string CrateModel { get; set; } = "";
    [CsvColumn("crate_mean")] public double? CrateMean { get; set; }
    [CsvColumn("crate_std")] public double? CrateStd { get; set; }
    [CsvColumn("crate_n")] public int CrateN { get; set; }
    [CsvColumn("baseline_model")] public string BaselineModel { get; set; } = "";
    [CsvColumn("baseline_mean")] public double? BaselineMean { get; set; }
    [CsvColumn("baseline_std")] public double? BaselineStd { get; set; }
    [CsvColumn("baseline_n")] public int BaselineN { get; set; }
    [CsvColumn("difference")] public double? Difference { get; set; }
    [CsvColumn("paper_crate")] public double? PaperCrate { get; set; }
    [CsvColumn("paper_baseline")] public double? PaperBaseline { get; set; }
    [CsvColumn("paper_crate_config")] public string PaperCrateConfig { get; set; } = "";
    [CsvColumn("paper_baseline_config")] public string PaperBaselineConfig { get; set; } = "";
    [CsvColumn("note")] public string Note { get; set; } = "";
    [CsvColumn("difference_ci95_low")] public double? DifferenceLow { get; set; }
    [CsvColumn("difference_ci95_high")] public double? DifferenceHigh { get; set; }

    /// <summary>The CSV form of a summary row.</summary>
    public static SummaryCsvRow From(SummaryRow row) => new()
    {
        Task = row.Task, Preset = row.Preset, Metric = row.Metric, Unit = row.Unit, HigherIsBetter = row.HigherIsBetter,
        CrateModel = row.CrateModel, CrateMean = row.Crate?.Mean, CrateStd = row.Crate?.Std, CrateN = row.Crate?.N ?? 0,
        BaselineModel = row.BaselineModel, BaselineMean = row.Baseline?.Mean, BaselineStd = row.Baseline?.Std,
        BaselineN = row.Baseline?.N ?? 0, Difference = row.Difference, PaperCrate = row.PaperCrate,
        PaperBaseline = row.PaperBaseline, PaperCrateConfig = row.PaperCrateConfig,
        PaperBaselineConfig = row.PaperBaselineConfig, Note = row.Note,
        DifferenceLow = row.DifferenceInterval?.Low, DifferenceHigh = row.DifferenceInterval?.High,
    };
}

/// <summary>
/// One row of the per-run CSV: one per (run, metric), or one with empty metric and value for a run
/// without metrics. Column order (stable; new columns are only ever appended): run_key, task, preset,
/// model, role, seed, status, metric, unit, value, train_seconds, code, started_utc, finished_utc, error.
/// </summary>
[CsvRecord]
public sealed partial class RunCsvRow
{
    [CsvColumn("run_key")] public string RunKey { get; set; } = "";
    [CsvColumn("task")] public string Task { get; set; } = "";
    [CsvColumn("preset")] public string Preset { get; set; } = "";
    [CsvColumn("model")] public string Model { get; set; } = "";
    [CsvColumn("role")] public string Role { get; set; } = "";
    [CsvColumn("seed")] public int Seed { get; set; }
    [CsvColumn("status")] public string Status { get; set; } = "";
    [CsvColumn("metric")] public string Metric { get; set; } = "";
    [CsvColumn("unit")] public string Unit { get; set; } = "";
    [CsvColumn("value")] public double? Value { get; set; }
    [CsvColumn("train_seconds")] public double TrainSeconds { get; set; }
    [CsvColumn("code")] public string Code { get; set; } = "";
    [CsvColumn("started_utc")] public DateTime? StartedUtc { get; set; }
    [CsvColumn("finished_utc")] public DateTime? FinishedUtc { get; set; }
    [CsvColumn("error")] public string Error { get; set; } = "";

    /// <summary>The CSV rows of a run: one per metric, or one without a metric.</summary>
    public static IEnumerable<RunCsvRow> From(RunRow run)
    {
        RunCsvRow Row(MetricValue? metric) => new()
        {
            RunKey = run.RunKey, Task = run.Task, Preset = run.Preset, Model = run.Model,
            Role = run.Role.ToString().ToLowerInvariant(), Seed = run.Seed, Status = run.Status.ToString().ToLowerInvariant(),
            Metric = metric?.Name ?? "", Unit = metric?.Unit ?? "", Value = metric?.Value,
            TrainSeconds = run.TrainSeconds, Code = run.Code, StartedUtc = run.StartedUtc, FinishedUtc = run.FinishedUtc,
            Error = run.Error ?? "",
        };
        return run.Metrics.Count == 0 ? [Row(null)] : run.Metrics.Select(m => Row(m));
    }
}

/// <summary>
/// One row of the curves CSV (<c>report --curves --format csv</c>): one per (run, phase, step, metric). Column
/// order (stable; new columns are only ever appended): run_key, task, preset, model, role, seed, phase, step,
/// epoch, metric, value.
/// </summary>
[CsvRecord]
public sealed partial class CurveCsvRow
{
    [CsvColumn("run_key")] public string RunKey { get; set; } = "";
    [CsvColumn("task")] public string Task { get; set; } = "";
    [CsvColumn("preset")] public string Preset { get; set; } = "";
    [CsvColumn("model")] public string Model { get; set; } = "";
    [CsvColumn("role")] public string Role { get; set; } = "";
    [CsvColumn("seed")] public int Seed { get; set; }
    [CsvColumn("phase")] public string Phase { get; set; } = "";
    [CsvColumn("step")] public long Step { get; set; }
    [CsvColumn("epoch")] public int Epoch { get; set; }
    [CsvColumn("metric")] public string Metric { get; set; } = "";
    [CsvColumn("value")] public double Value { get; set; }

    /// <summary>The CSV form of a curve point.</summary>
    public static CurveCsvRow From(CurvePoint p) => new()
    {
        RunKey = p.RunKey, Task = p.Task, Preset = p.Preset, Model = p.Model, Role = p.Role.ToString().ToLowerInvariant(),
        Seed = p.Seed, Phase = p.Phase, Step = p.Step, Epoch = p.Epoch, Metric = p.Metric, Value = p.Value,
    };
}
