using System.Globalization;
using System.Reflection;
using System.Text;

namespace Crate.Results;

/// <summary>
/// Renders rows of any record type as an HTML table, one column per public property in declaration order, so that a
/// new row kind (or a new property of an existing one) appears in the HTML report without a change here. Conventions,
/// all by property name or type:
/// <list type="bullet">
/// <item>the grouping properties the caller names (<c>Task</c>, <c>Preset</c>) are left out (they are the headings);</item>
/// <item><c>Metric</c> or <c>Measure</c> is the first column, with <c>Unit</c> and <c>HigherIsBetter</c> (↑/↓) beside the
/// name and <c>Description</c> as its tooltip;</item>
/// <item>text columns with one value in every row (the models compared, a control's kind) go to the caption above the
/// table; a column empty in every row is left out, and so is a long text column whose values the row's <c>Note</c> repeats;
/// long texts (the note) are numbered notes under the table, the column keeping only the number;</item>
/// <item><see cref="Aggregate"/> cells are mean ± std (n), <see cref="IInterval"/> cells [low, high], bold when they
/// exclude 0; numbers are in the row's unit's precision (<see cref="ReportWriter.Number"/>), signed for a property named
/// <c>…Difference…</c> or <c>…Delta…</c>; a property <c>XInterval</c> stands right after <c>X</c>; the n of an aggregate
/// column is in its heading when every row has the same.</item>
/// </list>
/// </summary>
public static class HtmlTables
{
    /// <summary>Text safe in HTML content and attribute values (the page is UTF-8, so only the five markup characters are escaped).</summary>
    internal static string Encode(string? text) =>
        (text ?? "").Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;").Replace("'", "&#39;");

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private static readonly string[] NameColumns = ["Metric", "Measure"];
    private static readonly string[] Folded = ["Unit", "HigherIsBetter", "Description"];

    /// <summary>Properties that select rows rather than show a value (the summary's control flag: control rows have tables of their own).</summary>
    private static readonly string[] Hidden = ["IsControl"];

    /// <summary>Column headings of known properties; any other property gets its name in words (<c>ControlKind</c>: "control kind").</summary>
    private static readonly Dictionary<string, string> Headings = new(StringComparer.Ordinal)
    {
        ["Crate"] = "CRATE", ["CrateModel"] = "CRATE model", ["Baseline"] = "baseline", ["BaselineModel"] = "baseline model",
        ["Difference"] = "Δ", ["DifferenceInterval"] = "Δ 95 % CI (Welch)", ["PaperCrate"] = "paper CRATE",
        ["PaperBaseline"] = "paper baseline", ["PaperCrateConfig"] = "paper CRATE config", ["PaperBaselineConfig"] = "paper baseline config",
    };

    /// <summary>The value of <paramref name="row"/>'s property <paramref name="property"/> as text (empty when it has none).</summary>
    public static string Text(object row, string property) =>
        row.GetType().GetProperty(property)?.GetValue(row) switch
        {
            null => "",
            string s => s,
            IFormattable f => f.ToString(null, Invariant),
            var v => v.ToString() ?? "",
        };

    /// <summary>Whether <paramref name="type"/> has a public property <paramref name="property"/>.</summary>
    public static bool Has(Type type, string property) => type.GetProperty(property) is not null;

    /// <summary>
    /// Writes a caption (the constant text columns; none when every column varies) and the table of <paramref name="rows"/>
    /// (all of <paramref name="rowType"/>), leaving out the properties in <paramref name="groupedBy"/>.
    /// </summary>
    public static void Write(StringBuilder html, Type rowType, IReadOnlyList<object> rows, params string[] groupedBy)
    {
        if (rows.Count == 0) return;
        var properties = rowType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0).OrderBy(p => p.MetadataToken).ToList();
        var name = properties.FirstOrDefault(p => NameColumns.Contains(p.Name));
        var note = properties.FirstOrDefault(p => p.Name == "Note");
        var columns = new List<PropertyInfo>();
        var caption = new List<string>();
        foreach (var p in properties)
        {
            if (groupedBy.Contains(p.Name) || p == name || Hidden.Contains(p.Name) || (name is not null && Folded.Contains(p.Name))) continue;
            var values = rows.Select(r => p.GetValue(r)).ToList();
            if (values.All(IsEmpty)) continue;
            bool text = p.PropertyType == typeof(string) || Nullable.GetUnderlyingType(p.PropertyType)?.IsEnum == true || p.PropertyType.IsEnum;
            if (text && p != note && note is not null && rows.Any(r => Text(r, p.Name).Length > LongText)
                && rows.All(r => Text(r, p.Name) is var v && (v.Length == 0 || Text(r, note.Name).Contains(v, StringComparison.Ordinal))))
                continue;   // a long text the note repeats
            if (text && p != note && values.Select(v => Format(v, "", p.Name)).Distinct().Count() == 1)
            {
                caption.Add($"{Encode(Heading(p.Name))}: <strong>{Encode(Format(values[0], "", p.Name))}</strong>");
                continue;
            }
            columns.Add(p);
        }
        // Long texts (the paper's configurations in the note) become numbered notes under the table, so the numbers stay
        // side by side on a laptop screen; the same text in several rows is one note.
        var notes = columns.Where(c => c.PropertyType == typeof(string) && rows.Any(r => Text(r, c.Name).Length > LongText)).ToList();
        columns = [.. columns.Except(notes), .. notes];
        // An interval stands right after the value it is the interval of (DifferenceInterval after Difference).
        foreach (var interval in columns.Where(c => c.Name.EndsWith("Interval", StringComparison.Ordinal)).ToList())
            if (columns.FirstOrDefault(c => c.Name == interval.Name[..^"Interval".Length]) is { } of)
            {
                columns.Remove(interval);
                columns.Insert(columns.IndexOf(of) + 1, interval);
            }
        // n in the heading when every cell of an aggregate column has the same n.
        var sameN = columns.Where(c => rows.Select(r => c.GetValue(r)).OfType<Aggregate>().Select(a => a.N).Distinct().Count() == 1
                                       && rows.All(r => c.GetValue(r) is Aggregate or null))
            .ToDictionary(c => c, c => rows.Select(r => c.GetValue(r)).OfType<Aggregate>().First().N);
        var noteTexts = new List<string>();
        if (caption.Count > 0)
            html.Append("<p class=\"caption\">").AppendJoin(" · ", caption).Append("</p>\n");
        html.Append("<div class=\"scroll\"><table class=\"comparison\">\n<thead><tr>");
        if (name is not null) html.Append("<th class=\"name\">").Append(Encode(Heading(name.Name))).Append("</th>");
        foreach (var c in columns)
            html.Append(notes.Contains(c) ? "<th class=\"ref\">" : IsNumeric(c.PropertyType) ? "<th class=\"num\">" : "<th>").Append(Encode(Heading(c.Name)))
                .Append(sameN.TryGetValue(c, out var n) ? $" <span class=\"n\">n={n}</span>" : "").Append("</th>");
        html.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            if (name is not null) html.Append("<th class=\"name\" scope=\"row\">").Append(NameCell(row, name.Name)).Append("</th>");
            string unit = Text(row, "Unit");
            foreach (var c in columns)
            {
                if (!notes.Contains(c)) { html.Append(Cell(c.GetValue(row), unit, c.Name, showN: !sameN.ContainsKey(c))); continue; }
                var text = Text(row, c.Name);
                if (text.Length == 0) { html.Append("<td class=\"ref\"></td>"); continue; }
                if (!noteTexts.Contains(text)) noteTexts.Add(text);
                html.Append("<td class=\"ref\">").Append(noteTexts.IndexOf(text) + 1).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</tbody></table></div>\n");
        if (noteTexts.Count > 0)
            html.Append("<ol class=\"notes\">").AppendJoin("", noteTexts.Select(t => $"<li>{Encode(t)}</li>")).Append("</ol>\n");
    }

    /// <summary>Texts longer than this (characters) are numbered notes under the table instead of a column.</summary>
    private const int LongText = 60;

    private static string NameCell(object row, string property)
    {
        var unit = Text(row, "Unit");
        var arrow = row.GetType().GetProperty("HigherIsBetter")?.GetValue(row) switch { true => "↑", false => "↓", _ => "" };
        var extra = string.Join(", ", new[] { unit, arrow }.Where(s => s.Length > 0));
        var description = Text(row, "Description");
        return (description.Length > 0 ? $"<span title=\"{Encode(description)}\">" : "<span>") + $"<code>{Encode(Text(row, property))}</code></span>" +
               (extra.Length > 0 ? $" <span class=\"unit\">({Encode(extra)})</span>" : "");
    }

    private static string Cell(object? value, string unit, string property, bool showN) =>
        value switch
        {
            Aggregate a => $"<td class=\"num\">{Encode(ReportWriter.MeanStd(a, unit))}{(showN ? $" <span class=\"n\">n={a.N}</span>" : "")}</td>",
            IInterval ci => $"<td class=\"num{(ci.Low > 0 || ci.High < 0 ? " excludes-zero" : "")}\">{Encode(Format(ci, unit, property))}</td>",
            double or float or int or long => $"<td class=\"num\">{Encode(Format(value, unit, property))}</td>",
            null => "<td class=\"num none\">–</td>",
            _ => $"<td>{Encode(Format(value, unit, property))}</td>",
        };

    /// <summary>A value as text in the report's number format (see the class remarks).</summary>
    public static string Format(object? value, string unit, string property) => value switch
    {
        null => "–",
        Aggregate a => $"{ReportWriter.MeanStd(a, unit)} (n={a.N})",
        IInterval ci => $"[{ReportWriter.Signed(ci.Low, unit)}, {ReportWriter.Signed(ci.High, unit)}]",
        double d when Signed(property) => ReportWriter.Signed(d, unit),
        double d => ReportWriter.Number(d, unit),
        float f => ReportWriter.Number(f, unit),
        int or long => ((IFormattable)value).ToString(null, Invariant),
        bool b => b ? "yes" : "no",
        Enum e => e.ToString().ToLowerInvariant(),
        DateTime t => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", Invariant),
        string s => s,
        System.Collections.IEnumerable items => string.Join(", ", items.Cast<object?>().Select(i => Format(i, unit, property))),
        IFormattable f => f.ToString(null, Invariant),
        _ => value.ToString() ?? "",
    };

    private static bool Signed(string property) =>
        property.Contains("Difference", StringComparison.Ordinal) || property.Contains("Delta", StringComparison.Ordinal);

    private static bool IsEmpty(object? value) => value is null || value is string { Length: 0 };

    private static bool IsNumeric(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(double) || t == typeof(float) || t == typeof(int) || t == typeof(long) || t == typeof(Aggregate) || typeof(IInterval).IsAssignableFrom(t);
    }

    /// <summary>A property's column heading: a known one, or its name in lower-case words.</summary>
    public static string Heading(string property) =>
        Headings.TryGetValue(property, out var heading) ? heading
        : string.Concat(property.Select((c, i) => i > 0 && char.IsUpper(c) && !char.IsUpper(property[i - 1]) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
