using Crate.Core.Contract;

namespace Crate.Results;

/// <summary>
/// Marks a property of <see cref="ReportModel"/> as a comparison table: a list of row records, each with a <c>Task</c>
/// (and usually a <c>Preset</c>) property. The HTML report renders every such property, in declaration order, as one
/// table per task and preset, one column per row property (<see cref="HtmlTables"/>): a new kind of row appears in the
/// report by adding its list here, without touching the HTML writer.
/// </summary>
/// <param name="title">The tables' heading, e.g. <c>CRATE vs baseline</c>.</param>
/// <param name="description">One sentence above the tables saying what their cells are.</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ReportTableAttribute(string title, string description = "") : Attribute
{
    /// <summary>The tables' heading.</summary>
    public string Title { get; } = title;

    /// <summary>What the cells are.</summary>
    public string Description { get; } = description;
}

/// <summary>What a report figure shows.</summary>
public enum FigureKind
{
    /// <summary>A training curve: one metric of the evaluation rows of one phase against the optimizer step, every finished run.</summary>
    Curve,
    /// <summary>The white-box measures per layer of one family of splits (the encoder's, or the decoder's).</summary>
    WhiteBox,
}

/// <summary>A PNG figure the report drew from the database (<c>&lt;out&gt;/plots/</c>).</summary>
public sealed record ReportFigure(string Task, string Preset, FigureKind Kind, string Title, string Path, string Description)
{
    /// <summary>The figure as a link of the Markdown report.</summary>
    public ReportArtifact ToArtifact() => new(Task, Title, Path, Description);
}

/// <summary>
/// Everything a full report shows, computed once from the database by <see cref="Report"/>: the comparison tables
/// (properties marked <see cref="ReportTableAttribute"/>), the white-box rows, the per-run rows with their records (config,
/// code, machine, timings, artifacts) and the figures drawn for it. Writers render it; none of them recomputes a number.
/// </summary>
public sealed record ReportModel
{
    /// <summary>CRATE against baseline per task, preset and metric (<see cref="Report.Summarise"/>).</summary>
    [ReportTable("CRATE vs baseline",
        "Mean ± sample standard deviation over seeds (n seeds); Δ = CRATE − baseline with its 95 % Welch interval (bold when it excludes 0). " +
        "The paper's values were measured on other configurations and data (see the note): set them beside ours, do not compare them directly.")]
    public IReadOnlyList<SummaryRow> Summary { get; init; } = [];

    /// <summary>The paper's relative claims checked against the runs (<see cref="Report.Claims"/>).</summary>
    [ReportTable("The paper's claims",
        "Each claim holds where Δ = CRATE − baseline is at least −margin (higher better) or at most +margin (lower better); reproduced when the " +
        "whole 95 % Welch interval holds it, not reproduced when none of it does, inconclusive when it straddles the bound.")]
    public IReadOnlyList<ClaimRow> Claims { get; init; } = [];

    /// <summary>Treated against control per model (<see cref="Report.Controls"/>): what pre-training added.</summary>
    [ReportTable("Controls: what pre-training added",
        "Per model, the treated metric (pre-trained, fine-tuned, features) and its control (the same encoder at its initialisation, fine-tuning " +
        "from scratch, the raw input), means over seeds; Δ = treated − control per seed with its paired 95 % interval (bold when it excludes 0).")]
    public IReadOnlyList<ControlRow> Controls { get; init; } = [];

    /// <summary>The white-box measures per layer of the finished CRATE runs, over seeds (<see cref="Report.WhiteBox"/>).</summary>
    public IReadOnlyList<WhiteBoxSummaryRow> WhiteBox { get; init; } = [];

    /// <summary>Every run, any status (<see cref="Report.PerRun"/>).</summary>
    public IReadOnlyList<RunRow> Runs { get; init; } = [];

    /// <summary>The run records behind <see cref="Runs"/>, by run key: config, code, machine, timings, artifacts.</summary>
    public IReadOnlyDictionary<string, RunRecord> Records { get; init; } = new Dictionary<string, RunRecord>();

    /// <summary>The figures drawn for the report (training curves, white-box per layer).</summary>
    public IReadOnlyList<ReportFigure> Figures { get; init; } = [];

    /// <summary>When the report was made (UTC).</summary>
    public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;

    /// <summary>The database the report was made from.</summary>
    public string Source { get; init; } = "";

    /// <summary>The report of <paramref name="records"/>: <paramref name="whiteBox"/> reads a run's white-box rows (from the store).</summary>
    public static ReportModel Build(IReadOnlyList<RunRecord> records, Func<string, IReadOnlyList<WhiteBoxRow>> whiteBox,
        IReadOnlyList<ReportFigure>? figures = null, string source = "")
    {
        var summary = Report.Summarise(records);
        return new()
        {
            Summary = summary.Where(r => !r.IsControl).ToList(),          // control metrics have their own table
            Claims = Report.Claims(records, summary),
            Controls = Report.Controls(records),
            WhiteBox = Report.WhiteBox(records, whiteBox),
            Runs = Report.PerRun(records),
            Records = records.ToDictionary(r => r.Id, StringComparer.Ordinal),
            Figures = figures ?? [],
            Source = source,
        };
    }

    /// <summary>The comparison tables, in declaration order: each property marked <see cref="ReportTableAttribute"/> with its rows.</summary>
    public IEnumerable<(ReportTableAttribute Table, Type RowType, IReadOnlyList<object> Rows)> Tables() =>
        typeof(ReportModel).GetProperties()
            .Select(p => (Property: p, Table: p.GetCustomAttributes(typeof(ReportTableAttribute), false).OfType<ReportTableAttribute>().FirstOrDefault()))
            .Where(x => x.Table is not null)
            .OrderBy(x => x.Property.MetadataToken)
            .Select(x => (x.Table!, RowType(x.Property.PropertyType),
                (IReadOnlyList<object>)((System.Collections.IEnumerable?)x.Property.GetValue(this) ?? Array.Empty<object>()).Cast<object>().ToList()));

    private static Type RowType(Type list) =>
        list.IsGenericType ? list.GetGenericArguments()[0]
        : list.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0]
          ?? typeof(object);
}
