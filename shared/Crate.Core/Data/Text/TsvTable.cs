namespace Crate.Core.Data.Text;

/// <summary>
/// A tab-separated file with a header line, read strictly as UTF-8 (plain or gzipped): fields are split at
/// tabs only, with no quoting (GLUE's TSVs hold bare quotes, which Hugging Face also reads with
/// <c>quotechar=None</c>). A header lacking a needed column, or a row with fewer fields than the column
/// needs, is a <see cref="DatasetException"/> naming the file, the line (1-based) and the column.
/// </summary>
public sealed class TsvTable
{
    private readonly Dictionary<string, int> _columns;

    private TsvTable(string path, string[] header, List<(int Line, string[] Fields)> rows)
    {
        Path = path;
        Header = header;
        Rows = rows;
        _columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++) _columns.TryAdd(header[i], i);
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The column names of the first line.</summary>
    public IReadOnlyList<string> Header { get; }

    /// <summary>The data lines: 1-based line number and fields (lines that are empty are skipped).</summary>
    public IReadOnlyList<(int Line, string[] Fields)> Rows { get; }

    /// <summary>Reads <paramref name="path"/>; empty file or a non-UTF-8 byte is an error naming it.</summary>
    public static TsvTable Read(string path)
    {
        string text = TextSource.ReadText(path);
        string[] lines = text.Split('\n');
        string[] header = lines[0].TrimEnd('\r').Split('\t');
        var rows = new List<(int, string[])>();
        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length > 0) rows.Add((i + 1, line.Split('\t')));
        }
        return new TsvTable(path, header, rows);
    }

    /// <summary>The index of column <paramref name="name"/>; a header without it is an error naming file, line 1 and column.</summary>
    public int Column(string name) =>
        _columns.TryGetValue(name, out int index) ? index
            : throw new DatasetException(Path, DataErrorKind.Missing,
                $"line 1: the header has no column '{name}' (it has: {string.Join(", ", Header.Select(h => $"'{h}'"))})");

    /// <summary>The field of <paramref name="row"/> in column <paramref name="column"/> (from <see cref="Column"/>), named <paramref name="name"/> in errors.</summary>
    public string Field((int Line, string[] Fields) row, int column, string name) =>
        column < row.Fields.Length ? row.Fields[column]
            : throw new DatasetException(Path, DataErrorKind.Truncated,
                $"line {row.Line}: missing column '{name}' (field {column + 1}; the line has {row.Fields.Length} field(s))");
}
