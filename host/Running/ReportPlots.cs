using Crate.Results;

namespace Crate.Host.Running;

/// <summary>
/// Draws the report's figures from the database: per task and preset, the training curves of every
/// finished run (one PNG per metric of its evaluation rows and phase, against the phase's optimizer step) and the per-layer white-box measurements of the
/// CRATE runs (R^c and sparsity against depth, one series per seed and split; one figure per split family, so an encoder's
/// and a decoder's layers, numbered from 1 each, are not drawn on one axis: see <see cref="SplitFamily"/>). Written to <c>&lt;out&gt;/plots/</c>.
/// </summary>
public static class ReportPlots
{
    /// <summary>Writes the figures and returns them.</summary>
    public static IReadOnlyList<ReportFigure> Write(ResultsStore store, IReadOnlyList<RunRecord> records, string plotDirectory)
    {
        var figures = new List<ReportFigure>();
        var finished = records.Where(r => r.Status == RunStatus.Finished).ToList();
        foreach (var group in finished.GroupBy(r => (r.Task, r.Preset)).OrderBy(g => g.Key.Task, StringComparer.Ordinal).ThenBy(g => g.Key.Preset, StringComparer.Ordinal))
        {
            var (task, preset) = group.Key;
            var runs = group.OrderBy(r => r.Role).ThenBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Seed).ToList();
            var epochs = runs.Select(r => (label: $"{r.Model} s{r.Seed}", rows: store.Epochs(r.Id))).Where(s => s.rows.Count > 0).ToList();
            // Curves of the metrics the task describes (top1, val_loss, ...); bookkeeping such as lr, throughput
            // or the raw counts behind an accuracy is left out. A task that describes none gets every metric.
            var described = runs.SelectMany(r => r.MetricInfo).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
            var metrics = epochs.SelectMany(s => s.rows.SelectMany(row => row.Metrics.Keys)).Distinct()
                .Where(m => m is not ("lr" or "samples_per_s" or "tokens_per_s" or "grad_norm" or "train_seconds" or "parameters"))
                .Where(m => described.Count == 0 || described.Contains(m))
                .Order(StringComparer.Ordinal);
            Directory.CreateDirectory(plotDirectory);
            var phases = epochs.SelectMany(s => s.rows.Select(row => row.Phase)).Distinct().ToList();   // training order
            foreach (var metric in metrics)
                foreach (var phase in phases)
                {
                    var series = epochs.Select(s => (s.label, rows: (IReadOnlyList<Crate.Core.Contract.EpochRow>)s.rows.Where(row => row.Phase == phase).ToList())).ToList();
                    bool single = phases.Count == 1 && phase == Crate.Core.Contract.RunPhase.Train;
                    var png = Path.Combine(plotDirectory, single ? $"{task}-{preset}-curve-{metric}.png" : $"{task}-{preset}-curve-{phase}-{metric}.png");
                    var title = single ? metric : $"{metric} ({phase})";
                    if (PlotWriter.TrainingCurves(png, series, metric, title))
                        figures.Add(new ReportFigure(task, preset, FigureKind.Curve, $"training curve: {title} ({preset})", png, "every finished run, per evaluation"));
                }
            var whiteBox = runs.Select(r => (label: $"{r.Model} s{r.Seed}", rows: store.WhiteBox(r.Id))).Where(s => s.rows.Count > 0).ToList();
            foreach (var family in whiteBox.SelectMany(s => s.rows.Select(r => SplitFamily(r.Split))).Distinct().Order(StringComparer.Ordinal))
            {
                var series = whiteBox.Select(s => (s.label, rows: (IReadOnlyList<Crate.Core.Contract.WhiteBoxRow>)s.rows.Where(r => SplitFamily(r.Split) == family).ToList()))
                    .Where(s => s.rows.Count > 0).ToList();
                var png = Path.Combine(plotDirectory, family.Length == 0 ? $"{task}-{preset}-whitebox.png" : $"{task}-{preset}-whitebox-{family}.png");
                if (PlotWriter.WhiteBoxLayersCompared(png, series))
                    figures.Add(new ReportFigure(task, preset, FigureKind.WhiteBox,
                        family.Length == 0 ? $"white-box measurements per layer ({preset})" : $"white-box measurements per layer, {family} ({preset})", png,
                        "compression term R^c and non-zero fraction of each layer's ISTA output, mean ± std over the measured samples"));
            }
        }
        return figures;
    }

    /// <summary>
    /// The family of a white-box split: the part after its last '-' (<c>test-decoder</c>: <c>decoder</c>), or empty for the
    /// model's main stack (<c>test</c>, <c>train</c>, <c>test@init</c>). Each family gets its own figure.
    /// </summary>
    public static string SplitFamily(string split) =>
        split.LastIndexOf('-') is var i and > 0 && i < split.Length - 1 ? split[(i + 1)..] : "";
}
