using System.Globalization;
using System.Text;
using System.Text.Json;
using Crate.Core.Contract;

namespace Crate.Results;

/// <summary>
/// Writes a <see cref="ReportModel"/> as one self-contained HTML page: no script, no network, every figure embedded as
/// a PNG data URI. Per task: every comparison table of the model (<see cref="ReportModel.Tables"/>, rendered by
/// <see cref="HtmlTables"/>) with links to the runs behind it, the training curves, the white-box figures and per-layer
/// tables (one per split: encoder and decoder apart), and the runs' image artifacts (attention maps, reconstructions).
/// Then every run with its status, metrics, code, machine, timings and config, each at the anchor <c>#run-&lt;key&gt;</c>.
/// </summary>
public static class HtmlReportWriter
{
    private static string Encode(string? text) => HtmlTables.Encode(text);

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The anchor of a run's details.</summary>
    public static string RunAnchor(string runKey) => "run-" + runKey;

    /// <summary>The anchor of a task's section.</summary>
    public static string TaskAnchor(string task) => "task-" + Slug(task);

    /// <summary>Writes the page for <paramref name="model"/>.</summary>
    public static void Write(TextWriter writer, ReportModel model)
    {
        var html = new StringBuilder();
        var tables = model.Tables().ToList();
        var tasks = tables.SelectMany(t => t.Rows.Select(r => HtmlTables.Text(r, "Task")))
            .Concat(model.WhiteBox.Select(w => w.Task)).Concat(model.Figures.Select(f => f.Task)).Concat(model.Runs.Select(r => r.Task))
            .Where(t => t.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();

        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>CRATE reproduction results</title>\n<style>\n").Append(HtmlReportStyle.Css).Append("\n</style>\n</head>\n<body>\n");
        WriteHeader(html, model, tables, tasks);
        html.Append("<main>\n");
        foreach (var task in tasks)
            WriteTask(html, model, tables, task);
        WriteRuns(html, model);
        html.Append("</main>\n<footer>Made by <code>report --format html</code> from ").Append(Encode(model.Source))
            .Append(". Numbers are the same as in the Markdown, CSV and JSON reports of the same database.</footer>\n</body>\n</html>\n");
        writer.Write(html.ToString());
    }

    private static void WriteHeader(StringBuilder html, ReportModel model, List<(ReportTableAttribute Table, Type RowType, IReadOnlyList<object> Rows)> tables, List<string> tasks)
    {
        var counts = model.Runs.GroupBy(r => r.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}");
        var commits = model.Runs.Select(r => r.Code).Distinct().ToList();
        html.Append("<header class=\"page\">\n<h1>CRATE reproduction results</h1>\n")
            .Append("<p class=\"meta\">").Append(model.Runs.Count).Append(" runs (").AppendJoin(", ", counts).Append(") · ")
            .Append(commits.Count == 1 ? "code " : "codes ").AppendJoin(", ", commits.Select(c => $"<code>{Encode(c)}</code>"))
            .Append(" · made ").Append(model.CreatedUtc.ToString("yyyy-MM-dd HH:mm 'UTC'", Invariant))
            .Append(model.Source.Length > 0 ? $" from <code>{Encode(model.Source)}</code>" : "").Append("</p>\n");
        html.Append("<nav class=\"toc\">");
        foreach (var task in tasks) html.Append($"<a href=\"#{TaskAnchor(task)}\">Task <code>{Encode(task)}</code></a>");
        html.Append("<a href=\"#runs\">Runs</a></nav>\n");
        foreach (var (table, _, _) in tables.Where(t => t.Table.Description.Length > 0))
            html.Append("<p class=\"lede\"><strong>").Append(Encode(table.Title)).Append(":</strong> ").Append(Encode(table.Description)).Append("</p>\n");
        html.Append("<p class=\"lede\">Only finished runs are aggregated. The run links under each table (s0, s1, …) lead to that run's config, "
                    + "code version, machine and timings in the <a href=\"#runs\">Runs</a> section.</p>\n</header>\n");
    }

    private static void WriteTask(StringBuilder html, ReportModel model, List<(ReportTableAttribute Table, Type RowType, IReadOnlyList<object> Rows)> tables, string task)
    {
        html.Append($"<section class=\"task\" id=\"{TaskAnchor(task)}\">\n<h2>Task <code>{Encode(task)}</code></h2>\n");
        foreach (var (table, rowType, rows) in tables)
        {
            var mine = rows.Where(r => HtmlTables.Text(r, "Task") == task).ToList();
            foreach (var preset in mine.GroupBy(r => HtmlTables.Text(r, "Preset")))
            {
                html.Append("<h3>").Append(Encode(table.Title)).Append(preset.Key.Length > 0 ? $" · preset <code>{Encode(preset.Key)}</code>" : "").Append("</h3>\n");
                HtmlTables.Write(html, rowType, preset.ToList(), "Task", "Preset");
                WriteRunLinks(html, model, task, HtmlTables.Has(rowType, "Preset") ? preset.Key : null);
            }
        }
        WriteFigures(html, model.Figures.Where(f => f.Task == task && f.Kind == FigureKind.Curve).ToList(), "Training curves", wide: false);
        WriteWhiteBox(html, model, task);
        WriteImages(html, model, task);
        html.Append("</section>\n");
    }

    /// <summary>"Runs: crate-mae s0 s1 · mae s0 s1": the finished runs a task's table aggregates, each linked to its details.</summary>
    private static void WriteRunLinks(StringBuilder html, ReportModel model, string task, string? preset)
    {
        var runs = model.Runs.Where(r => r.Task == task && (preset is null || r.Preset == preset) && r.Status == RunStatus.Finished).ToList();
        if (runs.Count == 0) return;
        html.Append("<p class=\"runs\">Runs: ");
        html.AppendJoin(" · ", runs.GroupBy(r => r.Model).Select(g =>
            $"{Encode(g.Key)} " + string.Join(" ", g.Select(r => $"<a href=\"#{RunAnchor(r.RunKey)}\">s{r.Seed}</a>"))));
        html.Append("</p>\n");
    }

    private static void WriteFigures(StringBuilder html, List<ReportFigure> figures, string heading, bool wide)
    {
        if (figures.Count == 0) return;
        html.Append("<h3>").Append(Encode(heading)).Append("</h3>\n<div class=\"figures").Append(wide ? " wide" : "").Append("\">\n");
        foreach (var figure in figures)
            html.Append("<figure>").Append(Image(figure.Path, figure.Title)).Append("<figcaption>").Append(Encode(figure.Title))
                .Append(figure.Description.Length > 0 ? ": " + Encode(figure.Description) : "").Append("</figcaption></figure>\n");
        html.Append("</div>\n");
    }

    /// <summary>The white-box figures (one per split family) and one layer × measure table per (preset, model, split).</summary>
    private static void WriteWhiteBox(StringBuilder html, ReportModel model, string task)
    {
        var rows = model.WhiteBox.Where(w => w.Task == task).ToList();
        var figures = model.Figures.Where(f => f.Task == task && f.Kind == FigureKind.WhiteBox).ToList();
        if (rows.Count == 0 && figures.Count == 0) return;
        WriteFigures(html, figures, "White-box measurements per layer", wide: true);
        if (rows.Count == 0) return;
        if (figures.Count == 0) html.Append("<h3>White-box measurements per layer</h3>\n");
        html.Append("<p class=\"lede\">Per layer ℓ (numbered from 1 in each split's stack; a split ending in <code>-decoder</code> is the decoder's): "
                    + "R^c = compression term of the layer's input through its own heads, R = coding rate of its output, nonzero / zero_fraction = "
                    + "share of non-zero / zero entries of its (ISTA) output (docs/paper.md §4); mean ± std over seeds of each run's mean.</p>\n");
        html.Append("<div class=\"pivots\">\n");
        foreach (var table in rows.GroupBy(w => (w.Preset, w.Model, w.Split)))
        {
            var measures = table.Select(r => r.Measure).Distinct().OrderBy(MeasureOrder).ThenBy(m => m, StringComparer.Ordinal).ToList();
            html.Append("<div><h4><code>").Append(Encode(table.Key.Model)).Append("</code>, split <code>").Append(Encode(table.Key.Split))
                .Append("</code> <span class=\"unit\">(preset ").Append(Encode(table.Key.Preset)).Append(", n=").Append(table.Max(r => r.Value.N))
                .Append(" seeds)</span></h4>\n<div class=\"scroll\"><table>\n<thead><tr><th class=\"num\">layer</th>");
            foreach (var m in measures) html.Append("<th class=\"num\">").Append(Encode(m)).Append("</th>");
            html.Append("</tr></thead>\n<tbody>\n");
            foreach (var layer in table.GroupBy(r => r.Layer).OrderBy(g => g.Key))
            {
                html.Append("<tr><td class=\"num\">").Append(layer.Key).Append("</td>");
                foreach (var m in measures)
                    html.Append("<td class=\"num\">").Append(layer.FirstOrDefault(r => r.Measure == m) is { } r ? Encode(ReportWriter.MeanStd(r.Value, "")) : "–").Append("</td>");
                html.Append("</tr>\n");
            }
            html.Append("</tbody></table></div></div>\n");
        }
        html.Append("</div>\n");
    }

    private static int MeasureOrder(string measure) => measure switch { "Rc" => 0, "R" => 1, "nonzero" => 2, "zero_fraction" => 3, _ => 4 };

    /// <summary>The finished runs' PNG artifacts, one gallery per artifact folder (<c>attention/</c>, <c>reconstructions/</c>).</summary>
    private static void WriteImages(StringBuilder html, ReportModel model, string task)
    {
        var images = model.Runs.Where(r => r.Task == task && r.Status == RunStatus.Finished && model.Records.ContainsKey(r.RunKey))
            .SelectMany(r => model.Records[r.RunKey].Artifacts
                .Where(a => a.RelativePath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                .Select(a => (Run: r, Artifact: a, Path: Path.Combine(model.Records[r.RunKey].RunDirectory, a.RelativePath))))
            .ToList();
        foreach (var group in images.GroupBy(i => ArtifactGroup(i.Artifact.RelativePath)))
        {
            html.Append("<h3>").Append(Encode(Heading(group.Key))).Append("</h3>\n");
            if (group.First().Artifact.Description is { Length: > 0 } description)
                html.Append("<p class=\"lede\">For example: ").Append(Encode(description)).Append("</p>\n");
            html.Append("<div class=\"gallery\">\n");
            foreach (var (run, artifact, path) in group)
                html.Append("<figure>").Append(Image(path, artifact.Name)).Append("<figcaption><a href=\"#").Append(RunAnchor(run.RunKey)).Append("\">")
                    .Append(Encode($"{run.Model} s{run.Seed}")).Append("</a> (").Append(Encode(run.Preset)).Append("): ").Append(Encode(artifact.Name))
                    .Append("</figcaption></figure>\n");
            html.Append("</div>\n");
        }
    }

    /// <summary>The folder of an artifact inside its run folder (<c>attention</c>), or <c>images</c> for one at its top.</summary>
    private static string ArtifactGroup(string relativePath) =>
        relativePath.Replace('\\', '/') is var p && p.Contains('/') ? p[..p.IndexOf('/')] : "images";

    private static string Heading(string group) =>
        group switch { "attention" => "Attention maps", "reconstructions" => "Reconstructions", _ => char.ToUpperInvariant(group[0]) + group[1..].Replace('_', ' ').Replace('-', ' ') };

    private static void WriteRuns(StringBuilder html, ReportModel model)
    {
        html.Append("<section id=\"runs\">\n<h2>Runs</h2>\n<div class=\"scroll\"><table>\n<thead><tr><th>run</th><th>task</th><th>preset</th><th>model</th>"
                    + "<th class=\"num\">seed</th><th>status</th><th class=\"num\">train time</th><th class=\"num\">attempts</th><th>code</th><th>finished</th></tr></thead>\n<tbody>\n");
        foreach (var run in model.Runs)
        {
            model.Records.TryGetValue(run.RunKey, out var record);
            html.Append($"<tr><td><a href=\"#{RunAnchor(run.RunKey)}\"><code>{Encode(run.RunKey)}</code></a></td><td>{Encode(run.Task)}</td>")
                .Append($"<td>{Encode(run.Preset)}</td><td>{Encode(run.Model)}</td><td class=\"num\">{run.Seed}</td><td>{Status(run.Status)}</td>")
                .Append($"<td class=\"num\">{ReportWriter.Duration(run.TrainSeconds)}</td><td class=\"num\">{record?.Attempts.ToString(Invariant) ?? "–"}</td>")
                .Append($"<td><code>{Encode(run.Code)}</code></td><td>{Encode(Time(run.FinishedUtc))}</td></tr>\n");
        }
        html.Append("</tbody></table></div>\n");
        foreach (var run in model.Runs)
            WriteRun(html, run, model.Records.GetValueOrDefault(run.RunKey));
        html.Append("</section>\n");
    }

    private static void WriteRun(StringBuilder html, RunRow run, RunRecord? record)
    {
        html.Append($"<section class=\"run\" id=\"{RunAnchor(run.RunKey)}\">\n<h3>{Encode(run.Task)} / {Encode(run.Model)} seed {run.Seed} ")
            .Append($"{Status(run.Status)} <span class=\"unit\"><code>{Encode(run.RunKey)}</code></span></h3>\n<dl class=\"facts\">\n");
        Fact(html, "task, preset", $"<a href=\"#{TaskAnchor(run.Task)}\">{Encode(run.Task)}</a>, {Encode(run.Preset)}" +
                                   (record?.Dataset is { Length: > 0 } d ? $" · data {Encode(d)}" : ""));
        Fact(html, "role", Encode(run.Role.ToString().ToLowerInvariant()));
        if (record is not null)
        {
            var code = record.Code;
            Fact(html, "code", code.Commit.Length == 0 ? "unknown (not a git checkout)"
                : $"<code>{Encode(code.Commit)}</code>{(code.Dirty == true ? " (uncommitted changes)" : "")}{(code.Describe.Length > 0 ? $" · <code>{Encode(code.Describe)}</code>" : "")}");
            var env = record.Environment;
            Fact(html, "machine", Encode(string.Join(" · ", new[] { env.Machine, env.Os, env.Device,
                env.Threads > 0 ? $"{env.Threads} thread(s)" : "", env.Allocator.Length > 0 ? "allocator " + env.Allocator : "" }.Where(s => s.Length > 0))));
            Fact(html, "libraries", Encode(string.Join(" · ", new[] { env.DotNet,
                env.TorchSharp.Length > 0 ? "TorchSharp " + env.TorchSharp : "", env.LibTorch }.Where(s => s.Length > 0))));
            Fact(html, "timings", Encode($"train time {ReportWriter.Duration(record.TrainSeconds)} over {record.Attempts} attempt(s) · created {Time(record.CreatedUtc)} · " +
                                         $"last started {Time(record.StartedUtc)} · finished {Time(record.FinishedUtc)}"));
            Fact(html, "folder", $"<code>{Encode(record.RunDirectory)}</code>");
        }
        else Fact(html, "timings", Encode($"train time {ReportWriter.Duration(run.TrainSeconds)} · started {Time(run.StartedUtc)} · finished {Time(run.FinishedUtc)}"));
        html.Append("</dl>\n");
        if (run.Error is { Length: > 0 } error)
            html.Append("<p class=\"error\">").Append(Encode(error)).Append("</p>\n");
        if (run.Metrics.Count > 0)
        {
            html.Append("<ul class=\"metrics\">\n");
            foreach (var m in run.Metrics)
                html.Append($"<li><span><code>{Encode(m.Name)}</code></span><span>{Encode(ReportWriter.Number(m.Value, m.Unit))}{(m.Unit.Length > 0 ? " " + Encode(m.Unit) : "")}</span></li>\n");
            html.Append("</ul>\n");
        }
        if (record is not null)
        {
            if (record.Artifacts.Count > 0)
                html.Append("<p class=\"runs\">Artifacts: ").AppendJoin(" · ", record.Artifacts.Select(a => $"<code>{Encode(a.RelativePath)}</code>")).Append("</p>\n");
            html.Append("<details><summary>config</summary><pre>").Append(Encode(Indented(record.ConfigJson))).Append("</pre></details>\n");
        }
        html.Append("</section>\n");
    }

    private static void Fact(StringBuilder html, string name, string valueHtml) =>
        html.Append("<dt>").Append(Encode(name)).Append("</dt><dd>").Append(valueHtml).Append("</dd>\n");

    private static string Status(RunStatus status)
    {
        var s = status.ToString().ToLowerInvariant();
        return $"<span class=\"status {s}\">{s}</span>";
    }

    private static string Time(DateTime? utc) => utc is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Invariant) : "–";

    private static string Indented(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(doc.RootElement, new JsonSerializerOptions { WriteIndented = true });
        }
        catch (JsonException) { return json; }
    }

    /// <summary>An <c>img</c> with the PNG embedded as a data URI, or a note naming the missing file.</summary>
    private static string Image(string path, string alt)
    {
        if (!File.Exists(path))
            return $"<p class=\"missing\">missing file <code>{Encode(path)}</code></p>";
        var bytes = File.ReadAllBytes(path);
        var (width, height) = PngSize(bytes);
        var size = width > 0 ? $" width=\"{width}\" height=\"{height}\"" : "";
        return $"<img src=\"data:image/png;base64,{Convert.ToBase64String(bytes)}\" alt=\"{Encode(alt)}\"{size} loading=\"eager\">";
    }

    /// <summary>Width and height from a PNG's IHDR chunk (so the page lays out before the images decode); zeros if it is no PNG.</summary>
    private static (int Width, int Height) PngSize(byte[] png) =>
        png.Length >= 24 && png[0] == 0x89 && png[1] == (byte)'P' && png[12] == (byte)'I' && png[13] == (byte)'H'
            ? (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)))
            : (0, 0);

    private static string Slug(string text) =>
        string.Concat(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-'));
}
