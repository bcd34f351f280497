namespace Crate.Core.Data.Text;

/// <summary>One GLUE example: one or two texts and a 0/1 label, with the file and line it was read from.</summary>
public sealed record GlueExample(string TextA, string? TextB, int Label, string File, int Line);

/// <summary>
/// GLUE classification sets from the TSV files of the GLUE download (<c>--data glue=DIR</c>, DIR holding
/// <c>SST-2/</c> and <c>MRPC/</c>, or being one of those folders):
/// <list type="bullet">
/// <item>SST-2: <c>train.tsv</c> / <c>dev.tsv</c> with columns <c>sentence</c>, <c>label</c> (0 negative, 1 positive).</item>
/// <item>MRPC: <c>train.tsv</c> / <c>dev.tsv</c>, or, when those are absent, Microsoft's original
/// <c>msr_paraphrase_train.txt</c> / <c>msr_paraphrase_test.txt</c> (the test file then stands in for dev);
/// columns <c>Quality</c> (1 paraphrase, 0 not), <c>#1 ID</c>, <c>#2 ID</c>, <c>#1 String</c>, <c>#2 String</c>.</item>
/// </list>
/// Columns are found by header name. A missing column, a short line or a label other than 0/1 is a
/// <see cref="DatasetException"/> naming the file, the line and the column.
/// </summary>
public static class GlueTasks
{
    /// <summary>The task names <see cref="Load"/> accepts.</summary>
    public static readonly IReadOnlyList<string> Names = ["sst2", "mrpc"];

    /// <summary>The split of a task: <paramref name="train"/> or dev. <paramref name="task"/> is "sst2"/"SST-2" or "mrpc"/"MRPC".</summary>
    public static IReadOnlyList<GlueExample> Load(string task, string directory, bool train) => Normalize(task) switch
    {
        "sst2" => LoadSst2(directory, train),
        "mrpc" => LoadMrpc(directory, train),
        _ => throw new ArgumentException($"unknown GLUE task '{task}'; known: {string.Join(", ", Names)}", nameof(task)),
    };

    /// <summary>SST-2 sentences and sentiment labels.</summary>
    public static IReadOnlyList<GlueExample> LoadSst2(string directory, bool train)
    {
        string path = Path.Combine(TaskFolder(directory, "SST-2"), train ? "train.tsv" : "dev.tsv");
        DataFiles.RequireFile(path);
        var table = TsvTable.Read(path);
        int sentence = table.Column("sentence"), label = table.Column("label");
        return table.Rows.Select(row => new GlueExample(table.Field(row, sentence, "sentence"), null,
            Label(table, row, label, "label"), path, row.Line)).ToArray();
    }

    /// <summary>MRPC sentence pairs and paraphrase labels.</summary>
    public static IReadOnlyList<GlueExample> LoadMrpc(string directory, bool train)
    {
        string folder = TaskFolder(directory, "MRPC");
        string glue = Path.Combine(folder, train ? "train.tsv" : "dev.tsv");
        string original = Path.Combine(folder, train ? "msr_paraphrase_train.txt" : "msr_paraphrase_test.txt");
        string path = File.Exists(glue) || !File.Exists(original) ? glue : original;
        DataFiles.RequireFile(path);
        var table = TsvTable.Read(path);
        int quality = table.Column("Quality"), a = table.Column("#1 String"), b = table.Column("#2 String");
        table.Column("#1 ID");
        table.Column("#2 ID");
        return table.Rows.Select(row => new GlueExample(table.Field(row, a, "#1 String"), table.Field(row, b, "#2 String"),
            Label(table, row, quality, "Quality"), path, row.Line)).ToArray();
    }

    private static int Label(TsvTable table, (int Line, string[] Fields) row, int column, string name)
    {
        string text = table.Field(row, column, name).Trim();
        return text switch
        {
            "0" => 0,
            "1" => 1,
            _ => throw new DatasetException(table.Path, DataErrorKind.BadLabel, $"line {row.Line}: column '{name}' is '{text}', expected 0 or 1"),
        };
    }

    /// <summary><paramref name="directory"/>/<paramref name="name"/> when it exists, else <paramref name="directory"/> itself.</summary>
    private static string TaskFolder(string directory, string name)
    {
        DataFiles.RequireDirectory(directory);
        string sub = Path.Combine(directory, name);
        return Directory.Exists(sub) ? sub : directory;
    }

    private static string Normalize(string task) => task.Replace("-", "").ToLowerInvariant();
}
