using System.Text.RegularExpressions;

namespace Crate.Core.Data.Text;

/// <summary>One document of a corpus: a stable id (e.g. the file name without <c>.txt[.gz]</c>) and its text.</summary>
public sealed record TextDocument(string Id, string Text);

/// <summary>
/// Reads raw text as documents: any UTF-8 <c>.txt</c>/<c>.txt.gz</c> file or folder of them through
/// <see cref="TextSource"/> (each file one document, folders in ordinal name order; a non-UTF-8 or empty
/// file is a <see cref="DatasetException"/> naming it), and splits one long document at chapter headings
/// (Moby-Dick is one file but 135 chapters, so a held-out split by document needs the chapters).
/// </summary>
public static partial class TextDocuments
{
    /// <summary>Every document of <paramref name="source"/> (a file or a folder), read and checked.</summary>
    public static IReadOnlyList<TextDocument> Read(string source) =>
        TextSource.ListFiles(source).Select(path => new TextDocument(IdOf(path), TextSource.ReadText(path))).ToArray();

    /// <summary>The file name without its <c>.gz</c> and <c>.txt</c> endings.</summary>
    public static string IdOf(string path)
    {
        string name = Path.GetFileName(path);
        if (name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) name = name[..^3];
        if (name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)) name = name[..^4];
        return name;
    }

    /// <summary>
    /// Splits <paramref name="document"/> before every line that <paramref name="heading"/> matches (the
    /// heading line starts its part); a non-blank part before the first heading is kept too. Part ids are
    /// the document's id, '#' and the part's 1-based number.
    /// </summary>
    public static IReadOnlyList<TextDocument> SplitAtHeadings(TextDocument document, Regex heading)
    {
        string text = document.Text;
        var starts = new List<int>();
        for (int lineStart = 0; lineStart < text.Length;)
        {
            int end = text.IndexOf('\n', lineStart);
            if (end < 0) end = text.Length;
            if (heading.IsMatch(text.AsSpan(lineStart, end - lineStart).TrimEnd('\r'))) starts.Add(lineStart);
            lineStart = end + 1;
        }
        if (starts.Count == 0 || starts[0] != 0) starts.Insert(0, 0);
        starts.Add(text.Length);
        var parts = new List<TextDocument>();
        for (int i = 0; i + 1 < starts.Count; i++)
        {
            string part = text[starts[i]..starts[i + 1]];
            if (!string.IsNullOrWhiteSpace(part)) parts.Add(new TextDocument($"{document.Id}#{parts.Count + 1}", part));
        }
        return parts;
    }

    /// <summary>
    /// The shipped Moby-Dick (<c>data/moby-dick/mobydick.txt.gz</c>) as its chapters: one document per line
    /// "CHAPTER n. Title" (135 of them; ids <c>mobydick#1</c> .. <c>mobydick#135</c>).
    /// </summary>
    public static IReadOnlyList<TextDocument> ReadChapters(string path) =>
        SplitAtHeadings(new TextDocument(IdOf(path), TextSource.ReadText(path)), ChapterHeading());

    [GeneratedRegex(@"^CHAPTER \d+\.")]
    private static partial Regex ChapterHeading();
}
