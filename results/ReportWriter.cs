using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CsvHelper;

namespace Crate.Results;

/// <summary>
/// Writes the report as Markdown (for people), CSV (for spreadsheets; stable column order, invariant
/// culture, shortest round-trip numbers) and JSON (the same data as the CSV, for scripts).
/// Numbers in Markdown: see <see cref="Number"/>.
/// </summary>
public static class ReportWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>
    /// Writes the Markdown report: per task, one table per (preset, CRATE model, baseline model), each task's
    /// artifacts, and with <paramref name="runs"/> a table of every run. Artifact links are relative to
    /// <paramref name="reportDirectory"/> (the folder the report file will be in) when it is given.
    /// </summary>
    public static void WriteMarkdown(TextWriter writer, IReadOnlyList<SummaryRow> summary,
        IReadOnlyList<RunRow>? runs = null, IReadOnlyList<ReportArtifact>? artifacts = null, string? reportDirectory = null,
        IReadOnlyList<WhiteBoxSummaryRow>? whiteBox = null)
    {
        artifacts ??= [];
        whiteBox ??= [];
        writer.WriteLine("# CRATE reproduction results");
        writer.WriteLine();
        writer.WriteLine("The task tables aggregate finished runs only. Cells are mean ± sample standard deviation over seeds (n seeds); " +
                         "Δ = CRATE − baseline. The paper's values were measured on other configurations and data " +
                         "(see the note): set them beside ours, do not compare them directly.");
        var tasks = summary.Select(r => r.Task).Concat(artifacts.Select(a => a.Task)).Concat(whiteBox.Select(w => w.Task))
            .Distinct().Order(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            writer.WriteLine();
            writer.WriteLine($"## Task `{task}`");
            foreach (var table in summary.Where(r => r.Task == task).GroupBy(r => (r.Preset, r.CrateModel, r.BaselineModel)))
                WriteSummaryTable(writer, table.Key.Preset, table.Key.CrateModel, table.Key.BaselineModel, table.ToList());
            foreach (var table in whiteBox.Where(w => w.Task == task).GroupBy(w => (w.Preset, w.Model, w.Split)))
                WriteWhiteBoxTable(writer, table.Key.Preset, table.Key.Model, table.Key.Split, table.ToList());
            var links = artifacts.Where(a => a.Task == task).ToList();
            if (links.Count == 0)
                continue;
            writer.WriteLine();
            writer.WriteLine("Artifacts:");
            writer.WriteLine();
            foreach (var link in links)
                writer.WriteLine($"- [{Cell(link.Title)}]({Link(link.Path, reportDirectory)})" +
                                 (link.Description.Length > 0 ? $": {Cell(link.Description)}" : ""));
        }
        if (runs is not null)
            WriteRunsTable(writer, runs);
    }

    /// <summary>Writes the summary CSV (<see cref="SummaryCsvRow"/> columns): one row per (task, preset, models, metric).</summary>
    public static void WriteCsv(TextWriter writer, IReadOnlyList<SummaryRow> summary)
    {
        using var csv = CsvWriter.Create(writer, CsvOptions, leaveOpen: true);
        csv.WriteRecords(summary.Select(SummaryCsvRow.From));
    }

    /// <summary>Writes the per-run CSV (<see cref="RunCsvRow"/> columns): one row per (run, metric).</summary>
    public static void WriteCsv(TextWriter writer, IReadOnlyList<RunRow> runs)
    {
        using var csv = CsvWriter.Create(writer, CsvOptions, leaveOpen: true);
        csv.WriteRecords(runs.SelectMany(RunCsvRow.From));
    }

    /// <summary>Writes the curves CSV (<see cref="CurveCsvRow"/> columns): one row per (run, phase, step, metric).</summary>
    public static void WriteCsv(TextWriter writer, IReadOnlyList<CurvePoint> curves)
    {
        using var csv = CsvWriter.Create(writer, CsvOptions, leaveOpen: true);
        csv.WriteRecords(curves.Select(CurveCsvRow.From));
    }

    /// <summary>Writes <c>{"curves": [...]}</c>, one object per (run, phase, step, metric), camelCase, enums as names.</summary>
    public static void WriteJson(TextWriter writer, IReadOnlyList<CurvePoint> curves)
    {
        writer.Write(JsonSerializer.Serialize(new Dictionary<string, object> { ["curves"] = curves }, JsonOptions));
        writer.WriteLine();
    }

    /// <summary>Writes <c>{"summary": [...], "runs": [...]}</c> (runs only when given), camelCase, enums as names.</summary>
    public static void WriteJson(TextWriter writer, IReadOnlyList<SummaryRow> summary, IReadOnlyList<RunRow>? runs = null)
    {
        var document = new Dictionary<string, object>(StringComparer.Ordinal) { ["summary"] = summary };
        if (runs is not null)
            document["runs"] = runs;
        writer.Write(JsonSerializer.Serialize(document, JsonOptions));
        writer.WriteLine();
    }

    private static readonly CsvWriterOptions CsvOptions = CsvWriterOptions.Default with
    {
        NewLine = "\n",
        FormatProvider = Invariant,
        TrueValue = "true",
        FalseValue = "false",
    };

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static void WriteSummaryTable(TextWriter writer, string preset, string crate, string baseline, List<SummaryRow> rows)
    {
        writer.WriteLine();
        writer.WriteLine($"### Preset `{preset}`: {Name(crate)} vs {Name(baseline)}");
        writer.WriteLine();
        writer.WriteLine($"| metric | CRATE ({Name(crate)}) | baseline ({Name(baseline)}) | Δ | Δ 95 % CI (Welch) | paper CRATE | paper baseline | note |");
        writer.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var row in rows)
        {
            var metric = row.Metric + (row.Unit.Length > 0 || row.HigherIsBetter is not null
                ? " (" + string.Join(", ", new[] { row.Unit, Arrow(row.HigherIsBetter) }.Where(s => s.Length > 0)) + ")" : "");
            writer.WriteLine($"| {Cell(metric)} | {Aggregate(row.Crate, row.Unit)} | {Aggregate(row.Baseline, row.Unit)} | " +
                             $"{Signed(row.Difference, row.Unit)} | {Interval(row, row.Unit)} | {Value(row.PaperCrate, row.Unit)} | " +
                             $"{Value(row.PaperBaseline, row.Unit)} | {Cell(row.Note)} |");
        }
    }

    /// <summary>One row per layer, one column per measure (R^c, R, non-zero fraction, ...), mean ± std over seeds.</summary>
    private static void WriteWhiteBoxTable(TextWriter writer, string preset, string model, string split, List<WhiteBoxSummaryRow> rows)
    {
        var measures = rows.Select(r => r.Measure).Distinct().OrderBy(MeasureOrder).ThenBy(m => m, StringComparer.Ordinal).ToList();
        int seeds = rows.Max(r => r.Value.N);
        writer.WriteLine();
        writer.WriteLine($"### White-box measurements: preset `{preset}`, {Name(model)}, {Cell(split)} split (n={seeds} seeds)");
        writer.WriteLine();
        writer.WriteLine("Per layer ℓ: R^c = compression term of the layer's input through its own heads, R = coding rate of its output, " +
                         "nonzero / zero_fraction = share of non-zero / zero entries of its (ISTA) output (docs/paper.md §4).");
        writer.WriteLine();
        writer.WriteLine($"| layer | {string.Join(" | ", measures.Select(Cell))} |");
        writer.WriteLine($"| ---: | {string.Join(" | ", measures.Select(_ => "---:"))} |");
        foreach (var layer in rows.GroupBy(r => r.Layer).OrderBy(g => g.Key))
        {
            var cells = measures.Select(m => layer.FirstOrDefault(r => r.Measure == m) is { } r ? MeanStd(r.Value, "") : "–");
            writer.WriteLine($"| {layer.Key} | {string.Join(" | ", cells)} |");
        }
    }

    private static int MeasureOrder(string measure) => measure switch { "Rc" => 0, "R" => 1, "nonzero" => 2, "zero_fraction" => 3, _ => 4 };

    private static void WriteRunsTable(TextWriter writer, IReadOnlyList<RunRow> runs)
    {
        writer.WriteLine();
        writer.WriteLine("## Runs");
        writer.WriteLine();
        writer.WriteLine("| key | task | preset | model | seed | status | metrics | train time | code |");
        writer.WriteLine("| --- | --- | --- | --- | ---: | --- | --- | ---: | --- |");
        foreach (var run in runs)
        {
            var metrics = string.Join(", ", run.Metrics.Select(m => $"{m.Name} {Number(m.Value, m.Unit)}{(m.Unit.Length > 0 ? " " + m.Unit : "")}"));
            if (run.Error is { Length: > 0 } error)
                metrics = (metrics.Length > 0 ? metrics + "; " : "") + "error: " + (error.Length > 120 ? error[..117] + "..." : error);
            writer.WriteLine($"| `{run.RunKey}` | {Cell(run.Task)} | {Cell(run.Preset)} | {Cell(run.Model)} | {run.Seed} | " +
                             $"{run.Status.ToString().ToLowerInvariant()} | {Cell(metrics)} | {Duration(run.TrainSeconds)} | {Cell(run.Code)} |");
        }
    }

    /// <summary>
    /// A value in its unit's precision: <c>%</c> with 2 decimals, whole numbers of 1,000 or more and any value of
    /// 10,000 or more as an integer with thousands separators (parameter counts, tokens/s), anything else with 4.
    /// </summary>
    public static string Number(double value, string unit) =>
        double.IsNaN(value) ? "NaN"
        : double.IsInfinity(value) ? (value > 0 ? "inf" : "-inf")
        : unit == "%" ? value.ToString("F2", Invariant)
        : Math.Abs(value) >= 10_000 || (Math.Abs(value) >= 1_000 && value == Math.Round(value)) ? value.ToString("N0", Invariant)
        : value.ToString("F4", Invariant);

    private static string Value(double? value, string unit) => value is { } v ? Number(v, unit) : "–";

    /// <summary>"[low, high]" of Δ; "n = 1: none" when a side has a single seed (no spread, so no interval exists).</summary>
    private static string Interval(SummaryRow row, string unit) =>
        row.DifferenceInterval is { } ci ? $"[{Signed(ci.Low, unit)}, {Signed(ci.High, unit)}]"
        : row.Difference is null ? "–"
        : "n = 1: none";

    internal static string Signed(double? value, string unit) =>
        value is { } v ? (v >= 0 ? "+" : "") + Number(v, unit) : "–";

    private static string Aggregate(Aggregate? aggregate, string unit) =>
        aggregate is null ? "–" : $"{MeanStd(aggregate, unit)} (n={aggregate.N})";

    /// <summary>"mean ± std", or the mean alone below two values.</summary>
    internal static string MeanStd(Aggregate value, string unit) =>
        value.Std is { } std ? $"{Number(value.Mean, unit)} ± {Spread(std, value.Mean, unit)}" : Number(value.Mean, unit);

    /// <summary>A standard deviation in the precision of its mean: whole when the mean is printed whole (parameter counts).</summary>
    private static string Spread(double std, double mean, string unit) =>
        Number(mean, unit).Contains('.') || double.IsNaN(std) ? Number(std, unit) : std.ToString("N0", Invariant);

    private static string Arrow(bool? higherIsBetter) => higherIsBetter switch { true => "↑", false => "↓", null => "" };

    private static string Name(string model) => model.Length > 0 ? Cell(model) : "none";

    internal static string Duration(double seconds)
    {
        var time = TimeSpan.FromSeconds(Math.Round(seconds));
        return $"{(int)time.TotalHours}:{time.Minutes:D2}:{time.Seconds:D2}";
    }

    /// <summary>Text safe inside a Markdown table cell.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|").Replace("\r", "").Replace("\n", " ");

    /// <summary>A Markdown link target: relative to the report's folder when known, forward slashes, spaces escaped.</summary>
    private static string Link(string path, string? reportDirectory)
    {
        var target = reportDirectory is null ? path : Path.GetRelativePath(Path.GetFullPath(reportDirectory), Path.GetFullPath(path));
        return target.Replace('\\', '/').Replace(" ", "%20").Replace("(", "%28").Replace(")", "%29");
    }
}
