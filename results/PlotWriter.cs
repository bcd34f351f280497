using Crate.Core.Contract;
using ScottPlot;

namespace Crate.Results;

/// <summary>
/// PNG plots for the report (ScottPlot 5 on SkiaSharp): training curves of one metric over epochs, and the
/// white-box measurements per layer (crate-paper.md §4: the compression term R^c of the token
/// representations and the fraction of non-zeros of the ISTA output) with their standard deviation as error bars.
/// Each method returns false, writing nothing, when there is nothing to plot.
/// </summary>
public static class PlotWriter
{
    /// <summary>Width of a single plot in pixels.</summary>
    public const int Width = 800;
    /// <summary>Height of a single plot in pixels.</summary>
    public const int Height = 500;

    static PlotWriter() => EmbeddedFonts.Register();

    /// <summary>Names the report uses for the white-box measures, in panel order; other measures follow by name.</summary>
    private static readonly (string Measure, string Title)[] KnownMeasures =
    [
        ("Rc", "compression term R^c (coding rate over the heads' subspaces)"),
        ("nonzero", "fraction of non-zero ISTA outputs"),
        ("R", "coding rate R"),
    ];

    /// <summary>
    /// One line per series: <paramref name="metric"/> against the optimizer step (several evaluations may fall in one
    /// epoch); rows without it, or with a non-finite value, are skipped. <paramref name="title"/> defaults to the metric.
    /// </summary>
    public static bool TrainingCurves(string pngPath, IReadOnlyList<(string label, IReadOnlyList<EpochRow> rows)> series, string metric,
        string? title = null)
    {
        var plot = new Plot();
        var lines = 0;
        foreach (var (label, rows) in series)
        {
            var points = rows.Where(r => r.Metrics.TryGetValue(metric, out var v) && double.IsFinite(v))
                .OrderBy(r => r.Step).ToList();
            if (points.Count == 0)
                continue;
            var line = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.Metrics[metric]).ToArray());
            line.LegendText = label;
            lines++;
        }
        if (lines == 0)
            return false;
        Style(plot);
        plot.Title(title ?? metric);
        plot.XLabel("optimizer step");
        plot.YLabel(metric);
        plot.ShowLegend(Edge.Right);
        Save(pngPath, () => plot.SavePng(pngPath, Width, Height));
        return true;
    }

    /// <summary>The white-box rows of one run: one panel per measure (R^c, non-zero fraction, ...), one line per split.</summary>
    public static bool WhiteBoxLayers(string pngPath, IReadOnlyList<WhiteBoxRow> rows) =>
        WhiteBoxLayersCompared(pngPath, [("", rows)]);

    /// <summary>
    /// White-box rows of several runs (e.g. CRATE and its baseline): one panel per measure, side by side, with the
    /// measure against layer and ± its standard deviation as error bars; one line per (series, split).
    /// </summary>
    public static bool WhiteBoxLayersCompared(string pngPath, IReadOnlyList<(string label, IReadOnlyList<WhiteBoxRow> rows)> series)
    {
        var measures = series.SelectMany(s => s.rows).Select(r => r.Measure).Distinct()
            .OrderBy(m => Array.FindIndex(KnownMeasures, k => k.Measure == m) is var i and >= 0 ? i : KnownMeasures.Length)
            .ThenBy(m => m, StringComparer.Ordinal).ToList();
        if (measures.Count == 0)
            return false;
        var multiplot = new Multiplot();
        multiplot.AddPlots(measures.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (var panel = 0; panel < measures.Count; panel++)
        {
            var plot = multiplot.GetPlot(panel);
            var index = 0;
            foreach (var (label, rows) in series)
                foreach (var split in rows.Where(r => r.Measure == measures[panel]).GroupBy(r => r.Split).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var points = split.OrderBy(r => r.Layer).ToList();
                    var xs = points.Select(p => (double)p.Layer).ToArray();
                    var ys = points.Select(p => p.Mean).ToArray();
                    var color = plot.Add.Palette.GetColor(index++);
                    var line = plot.Add.Scatter(xs, ys, color);
                    line.LegendText = string.Join(" ", new[] { label, split.Key }.Where(s => s.Length > 0));
                    var bars = plot.Add.ErrorBar(xs, ys, points.Select(p => p.Std).ToArray());
                    bars.Color = color;
                }
            Style(plot);
            plot.Title(TitleOf(measures[panel]));
            plot.XLabel("layer");
            plot.YLabel(measures[panel]);
            plot.ShowLegend(Edge.Right);
        }
        Save(pngPath, () => multiplot.SavePng(pngPath, Width * measures.Count, Height));
        return true;
    }

    private static void Style(Plot plot) => plot.Font.Set(EmbeddedFonts.Family);

    private static string TitleOf(string measure) =>
        KnownMeasures.FirstOrDefault(k => k.Measure == measure).Title ?? measure;

    private static void Save(string pngPath, Action save)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(pngPath)) is { } folder)
            Directory.CreateDirectory(folder);
        save();
    }
}
