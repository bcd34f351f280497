using System.Text;
using System.Text.RegularExpressions;
using Crate.Core.Contract;
using Crate.Results;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>
/// The HTML report's structure without a browser (the browser test is Crate.Tests' HtmlReportBrowserTests): the
/// generic table renderer on a row kind it has never seen, the links between tables and runs, embedded images, and that
/// the page asks for nothing outside itself.
/// </summary>
public class HtmlReportTests
{
    /// <summary>A row kind the HTML writer does not know: the shape a control comparison (treated − control) could have.</summary>
    private sealed record ControlRow(string Task, string Preset, string Model, string Metric, string Kind, string Unit, bool? HigherIsBetter,
        Aggregate? Treated, Aggregate? Control, double? Difference, string Note, WelchInterval? DifferenceInterval, string Empty = "");

    [Fact]
    public void An_unknown_row_kind_gets_a_column_per_property_in_the_report_s_number_format()
    {
        var rows = new List<object>
        {
            new ControlRow("mae", "small", "crate-mae", "linear_top1", "initialisation", "%", true,
                Aggregate.Of([71.5, 72.5, 72.0]), Aggregate.Of([40.0, 41.0, 42.0]), 31.0, "",
                new WelchInterval(29.1, 32.9, 4)),
            new ControlRow("mae", "small", "crate-mae", "knn20_top1", "initialisation", "%", true,
                Aggregate.Of([60.0, 61.0, 62.0]), Aggregate.Of([60.5, 61.5, 59.5]), 0.5,
                "probe fitted on 10 labelled images per class, the same fixed subset for the pre-trained and the initial encoder",
                new WelchInterval(-1.5, 2.5, 4)),
        };
        var html = new StringBuilder();

        HtmlTables.Write(html, typeof(ControlRow), rows, "Task", "Preset");
        var page = html.ToString();

        // Constant text columns go to the caption; the grouping and empty columns are left out.
        Assert.Contains("model: <strong>crate-mae</strong>", page);
        Assert.Contains("kind: <strong>initialisation</strong>", page);
        Assert.DoesNotContain(">empty<", page);
        Assert.DoesNotContain(">task<", page);
        // One heading per remaining property, the interval right after the value it belongs to, the note last.
        var headings = Regex.Matches(page, "<th[^>]*>(.*?)</th>").Select(m => Regex.Replace(m.Groups[1].Value, "<.*?>", "")).Take(6).ToList();
        Assert.Equal(["metric", "treated n=3", "control n=3", "Δ", "Δ 95 % CI (Welch)", "note"], headings);
        Assert.Contains("<code>linear_top1</code></span> <span class=\"unit\">(%, ↑)</span>", page);
        Assert.Contains(">72.00 ± 0.50</td>", page);
        Assert.Contains(">+31.00</td>", page);                                   // signed: a difference
        Assert.Contains("excludes-zero\">[+29.10, +32.90]</td>", page);         // bold: 0 is outside
        Assert.Contains("\"num\">[-1.50, +2.50]</td>", page);
        Assert.Contains("<li>probe fitted on 10 labelled images per class", page);   // the long note under the table
    }

    [Fact]
    public void Every_run_link_leads_to_a_run_section_and_every_run_has_one()
    {
        var model = ReportModel.Build(ReportTests.Runs(), _ => [], source: "/out/results.db");
        var page = Write(model);

        var ids = Regex.Matches(page, "id=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToHashSet();
        var targets = Regex.Matches(page, "href=\"#([^\"]+)\"").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(targets);
        Assert.All(targets, t => Assert.Contains(t, ids));
        Assert.All(model.Runs, r => Assert.Contains(HtmlReportWriter.RunAnchor(r.RunKey), ids));
        Assert.Contains(HtmlReportWriter.TaskAnchor("vit"), ids);
        Assert.Contains(HtmlReportWriter.TaskAnchor("mae"), ids);
        // The summary's runs are linked under its table: the finished vit runs, not the failed one.
        var vit = model.Runs.Where(r => r.Task == "vit").ToList();
        var links = page[page.IndexOf($"id=\"{HtmlReportWriter.TaskAnchor("vit")}\"", StringComparison.Ordinal)..];
        links = Regex.Match(links, "<p class=\"runs\">Runs: (.*?)</p>").Groups[1].Value;
        Assert.All(vit.Where(r => r.Status == RunStatus.Finished), r => Assert.Contains(HtmlReportWriter.RunAnchor(r.RunKey), links));
        Assert.DoesNotContain(HtmlReportWriter.RunAnchor(vit.Single(r => r.Status == RunStatus.Failed).RunKey), links);
        // Per-run details: code, machine, timings, the error of the failed run, the config.
        Assert.Contains("0123456789abcdef0123456789abcdef01234567", page);
        Assert.Contains("test-machine · Debian GNU/Linux 12 · cpu · 2 thread(s) · allocator glibc", page);
        Assert.Contains("loss became NaN at step 40", page);
        Assert.Contains("&quot;train.epochs&quot;: 3", page);
        Assert.Contains("(uncommitted changes)", page);
    }

    [Fact]
    public void Images_are_embedded_and_a_missing_one_is_named_instead_of_a_broken_link()
    {
        using var folder = new TempFolder();
        var run = Run("vit", "crate", ModelRole.Crate, 1, RunStatus.Finished);
        run.RunDirectory = Path.Combine(folder.Path, "run");
        var png = Path.Combine(run.RunDirectory, "attention", "test-00000.png");
        Directory.CreateDirectory(Path.GetDirectoryName(png)!);
        var rows = new List<EpochRow> { Epoch(1), Epoch(2) };
        Assert.True(PlotWriter.TrainingCurves(png, [("crate s1", rows)], "val_acc"));
        run.Artifacts = [ArtifactRecord.From(new Artifact("attention test 0", "attention/test-00000.png", "[CLS] attention")),
                         ArtifactRecord.From(new Artifact("attention test 1", "attention/test-00001.png", "[CLS] attention"))];
        var curve = Path.Combine(folder.Path, "plots", "vit-small-curve-val_acc.png");
        Assert.True(PlotWriter.TrainingCurves(curve, [("crate s1", rows)], "val_acc"));
        var figures = new[] { new ReportFigure("vit", "small", FigureKind.Curve, "training curve: val_acc (small)", curve, "") };

        var page = Write(ReportModel.Build([run], _ => [], figures));

        Assert.Equal(2, Regex.Matches(page, "<img src=\"data:image/png;base64,").Count);
        Assert.Contains($"width=\"{PlotWriter.Width}\" height=\"{PlotWriter.Height}\"", page);
        Assert.Contains("<h3>Attention maps</h3>", page);
        Assert.Contains("<h3>Training curves</h3>", page);
        Assert.Contains("missing file <code>" + Path.Combine(run.RunDirectory, "attention", "test-00001.png"), page);
        var embedded = Regex.Match(page, "data:image/png;base64,([A-Za-z0-9+/=]+)").Groups[1].Value;
        Assert.Equal(File.ReadAllBytes(curve), Convert.FromBase64String(embedded));
    }

    [Fact]
    public void The_page_refers_to_nothing_outside_itself()
    {
        var page = Write(ReportModel.Build(ReportTests.Runs(), _ => [new WhiteBoxRow(1, "Rc", "test", 40, 1, 8), new WhiteBoxRow(1, "Rc", "test-decoder", 20, 1, 8)]));
        Assert.StartsWith("<!DOCTYPE html>", page);
        Assert.DoesNotContain("<script", page);
        Assert.DoesNotContain("<link", page);
        Assert.DoesNotMatch("(src|href)=\"(?!#|data:)", page);
        Assert.DoesNotContain("url(", page);
        Assert.DoesNotContain("@import", page);
        // The white-box rows of both splits, each its own table.
        Assert.Contains("split <code>test</code>", page);
        Assert.Contains("split <code>test-decoder</code>", page);
    }

    private static string Write(ReportModel model)
    {
        var writer = new StringWriter();
        HtmlReportWriter.Write(writer, model);
        return writer.ToString();
    }
}
