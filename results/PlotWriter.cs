using Crate.Core.Contract;
using ScottPlot;

namespace Crate.Results;

/// <summary>
/// PNG plots for the report (ScottPlot 5 on SkiaSharp): training curves of one metric over epochs, and the
/// white-box measurements per layer (docs/paper.md §4: the compression term R^c of the token
/// representations and the fraction of non-zeros of the ISTA output) with their standard deviation as error bars.
/// Each method returns false, writing nothing, when there is nothing to plot.
/// </summary>
public static class PlotWriter
{
    /// <summary>Width of a single plot in pixels.</summary>
    public const int Width = 800;
    /// <summary>Height of a single plot in pixels.</summary>
    public const int Height = 500;

    /// <summary>Width of one panel of the white-box figure: three panels side by side fit a laptop screen.</summary>
    public const int PanelWidth = 560;
    /// <summary>Height of the white-box figure.</summary>
    public const int PanelHeight = 440;

    /// <summary>Measures left out of the white-box figure because another panel shows the same thing.</summary>
    private static readonly (string Measure, string SameAs)[] Redundant = [("zero_fraction", "nonzero")];

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
        var present = series.SelectMany(s => s.rows).Select(r => r.Measure).ToHashSet(StringComparer.Ordinal);
        var measures = present.Where(m => !Redundant.Any(r => r.Measure == m && present.Contains(r.SameAs)))   // zero fraction = 1 − non-zero
            .OrderBy(m => Array.FindIndex(KnownMeasures, k => k.Measure == m) is var i and >= 0 ? i : KnownMeasures.Length)
            .ThenBy(m => m, StringComparer.Ordinal).ToList();
        if (measures.Count == 0)
            return false;
        // One colour per (series, split) across every panel, so a line has the same colour in each.
        var keys = series.SelectMany(s => s.rows.Where(r => measures.Contains(r.Measure)).Select(r => (s.label, r.Split)))
            .Distinct().OrderBy(k => series.ToList().FindIndex(s => s.label == k.label)).ThenBy(k => k.Split, StringComparer.Ordinal).ToList();
        var multiplot = new Multiplot();
        multiplot.AddPlots(measures.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (var panel = 0; panel < measures.Count; panel++)
        {
            var plot = multiplot.GetPlot(panel);
            foreach (var (label, rows) in series)
                foreach (var split in rows.Where(r => r.Measure == measures[panel]).GroupBy(r => r.Split).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    var points = split.OrderBy(r => r.Layer).ToList();
                    var xs = points.Select(p => (double)p.Layer).ToArray();
                    var ys = points.Select(p => p.Mean).ToArray();
                    var color = plot.Add.Palette.GetColor(keys.IndexOf((label, split.Key)));
                    var line = plot.Add.Scatter(xs, ys, color);
                    line.LegendText = string.Join(" ", new[] { label, split.Key }.Where(s => s.Length > 0));
                    var bars = plot.Add.ErrorBar(xs, ys, points.Select(p => p.Std).ToArray());
                    bars.Color = color;
                }
            Style(plot);
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            foreach (int layer in LayerTicks(series.SelectMany(s => s.rows).Select(r => r.Layer)))
                ticks.AddMajor(layer, layer.ToString(System.Globalization.CultureInfo.InvariantCulture));
            plot.Axes.Bottom.TickGenerator = ticks;
            plot.Title(TitleOf(measures[panel]));
            plot.XLabel("layer");
            plot.YLabel(measures[panel]);
            plot.ShowLegend(Alignment.UpperRight);
        }
        Save(pngPath, () => multiplot.SavePng(pngPath, PanelWidth * measures.Count, PanelHeight));
        return true;
    }

    /// <summary>Integer ticks on the layer axis: every layer up to 12 layers, else every k-th so that at most 12 remain.</summary>
    public static IReadOnlyList<int> LayerTicks(IEnumerable<int> layers)
    {
        var all = layers.Distinct().Order().ToList();
        if (all.Count == 0) return [];
        int every = (int)Math.Ceiling(all.Count / 12.0);
        return all.Where((_, i) => i % every == 0).ToList();
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
