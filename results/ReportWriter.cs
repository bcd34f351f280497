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
        IReadOnlyList<WhiteBoxSummaryRow>? whiteBox = null, IReadOnlyList<ControlRow>? controls = null, IReadOnlyList<ClaimRow>? claims = null)
    {
        artifacts ??= [];
        whiteBox ??= [];
        controls ??= [];
        claims ??= [];
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
            foreach (var table in claims.Where(c => c.Task == task).GroupBy(c => c.Preset))
                WriteClaims(writer, table.Key, table.ToList(), controls.Where(c => c.Task == task && c.Preset == table.Key).ToList());
            foreach (var table in controls.Where(c => c.Task == task).GroupBy(c => (c.Preset, c.Kind)))
                WriteControlTable(writer, table.Key.Preset, table.Key.Kind, table.ToList());
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

    /// <summary>Writes <c>{"summary": [...], "controls": [...], "runs": [...]}</c> (controls when there are any, runs only when given), camelCase, enums as names.</summary>
    public static void WriteJson(TextWriter writer, IReadOnlyList<SummaryRow> summary, IReadOnlyList<RunRow>? runs = null,
        IReadOnlyList<ControlRow>? controls = null)
    {
        var document = new Dictionary<string, object>(StringComparer.Ordinal) { ["summary"] = summary };
        if (controls is { Count: > 0 })
            document["controls"] = controls;
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
        foreach (var row in rows.Where(r => !r.IsControl))
        {
            var metric = row.Metric + (row.Unit.Length > 0 || row.HigherIsBetter is not null
                ? " (" + string.Join(", ", new[] { row.Unit, Arrow(row.HigherIsBetter) }.Where(s => s.Length > 0)) + ")" : "");
            writer.WriteLine($"| {Cell(metric)} | {Aggregate(row.Crate, row.Unit)} | {Aggregate(row.Baseline, row.Unit)} | " +
                             $"{Signed(row.Difference, row.Unit)} | {Interval(row, row.Unit)} | {Value(row.PaperCrate, row.Unit)} | " +
                             $"{Value(row.PaperBaseline, row.Unit)} | {Cell(row.Note)} |");
        }
    }

    /// <summary>
    /// One table per (preset, control kind): one row per treated metric, per model the treated mean, the control's mean
    /// and the paired Δ = treated − control with its 95 % interval; "*" marks an interval that excludes 0.
    /// </summary>
    private static void WriteControlTable(TextWriter writer, string preset, string kind, List<ControlRow> rows)
    {
        var models = rows.OrderBy(r => r.Role).Select(r => r.Model).Distinct().ToList();
        var (title, treated, control) = kind switch
        {
            "Initialisation" => ("what pre-training added: pre-trained − the same encoder at its initialisation", "pre-trained", "init"),
            "FromScratch" => ("what pre-training added to fine-tuning: fine-tuned − fine-tuned from scratch", "fine-tuned", "scratch"),
            "RawInput" => ("the features against the raw input: features − raw input", "features", "raw"),
            _ => ($"treated − control ({kind})", "treated", "control"),
        };
        writer.WriteLine();
        writer.WriteLine($"### Controls, preset `{preset}`: {title}");
        writer.WriteLine();
        writer.WriteLine($"Per model: {treated} and {control} as mean over seeds, Δ = {treated} − {control} paired by seed with its 95 % " +
                         "interval (t over the per-seed differences); * = the interval excludes 0 (beyond seed noise).");
        writer.WriteLine();
        writer.WriteLine($"| metric | {string.Join(" | ", models.Select(m => $"{Name(m)}: {treated} | {control} | Δ [95 % CI]"))} |");
        writer.WriteLine($"| --- | {string.Join(" | ", models.Select(_ => "---: | ---: | ---:"))} |");
        foreach (var metric in rows.GroupBy(r => r.Metric))
        {
            var cells = models.Select(m => metric.FirstOrDefault(r => r.Model == m) is { } r
                ? $"{Number(r.Treated.Mean, r.Unit)} | {Number(r.Control.Mean, r.Unit)} | {ControlDelta(r)}"
                : "– | – | –");
            var name = metric.Key + (metric.First().HigherIsBetter is { } up ? $" ({Arrow(up)})" : "");
            writer.WriteLine($"| {Cell(name)} | {string.Join(" | ", cells)} |");
        }
    }

    /// <summary>
    /// The paper's claims for one preset with their verdicts, then one line per model and control kind counting the
    /// metrics on which pre-training is ahead of its control beyond seed noise.
    /// </summary>
    private static void WriteClaims(TextWriter writer, string preset, List<ClaimRow> claims, List<ControlRow> controls)
    {
        writer.WriteLine();
        writer.WriteLine($"### The paper's claims, preset `{preset}`");
        writer.WriteLine();
        writer.WriteLine("| claim | metric | Δ = CRATE − baseline [95 % CI] | holds where | verdict | source |");
        writer.WriteLine("| --- | --- | ---: | --- | --- | --- |");
        foreach (var c in claims)
        {
            string bound = c.HigherIsBetter ? $"Δ ≥ {Signed(-c.Margin, c.Unit)}" : $"Δ ≤ {Signed(c.Margin, c.Unit)}";
            string delta = Signed(c.Difference, c.Unit) + (c.Interval is { } ci ? $" [{Signed(ci.Low, c.Unit)}, {Signed(ci.High, c.Unit)}]" : "");
            string verdict = c.Verdict switch
            {
                ClaimVerdict.Reproduced => "**reproduced**",
                ClaimVerdict.NotReproduced => "**not reproduced**",
                ClaimVerdict.Inconclusive => "inconclusive (the interval straddles the bound)",
                _ => "one seed: no interval",
            };
            writer.WriteLine($"| {Cell(c.Statement)} | {Cell(c.Metric)} ({c.CrateModel} vs {c.BaselineModel}) | {delta} | {bound} | {verdict} | {Cell(c.Source)} |");
        }
        foreach (var group in controls.Where(c => c.Kind is "Initialisation" or "FromScratch").GroupBy(c => (c.Model, c.Kind)))
        {
            int ahead = group.Count(c => c.Interval is { ExcludesZero: true } ci && (c.HigherIsBetter ?? true ? ci.Low > 0 : ci.High < 0));
            int behind = group.Count(c => c.Interval is { ExcludesZero: true } ci && (c.HigherIsBetter ?? true ? ci.High < 0 : ci.Low > 0));
            string against = group.Key.Kind == "Initialisation" ? "the same encoder at its initialisation" : "fine-tuning from scratch";
            writer.WriteLine();
            writer.WriteLine($"- {Name(group.Key.Model)}: pre-training is ahead of {against} beyond seed noise on {ahead} of {group.Count()} metrics" +
                             (behind > 0 ? $", behind on {behind}" : "") + " (tables below).");
        }
    }

    /// <summary>"+4.20 [+1.10, +7.30] *" (n seeds), or the Δ alone with one seed.</summary>
    private static string ControlDelta(ControlRow row) =>
        row.Interval is { } ci
            ? $"{Signed(row.Delta.Mean, row.Unit)} [{Signed(ci.Low, row.Unit)}, {Signed(ci.High, row.Unit)}]{(ci.ExcludesZero ? " *" : "")} (n={row.Delta.N})"
            : $"{Signed(row.Delta.Mean, row.Unit)} (n={row.Delta.N})";

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
