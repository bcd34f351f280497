using System.Text;

namespace Crate.Core.Data.Text;

/// <summary>
/// Cuts text into paragraphs and sentences, without a language model. Paragraphs end at blank lines
/// (hard-wrapped lines of one paragraph are joined); inside a paragraph every whitespace run becomes one
/// space, and a sentence ends after '.', '!' or '?' (plus any closing quotes or brackets right after it)
/// when a space follows. Abbreviations ("Mr. Smith") are cut too: the sentences only group tokens into
/// sequences, so a rare wrong cut moves a boundary, it loses nothing.
/// </summary>
public static class TextSegmenter
{
    private const string Closers = "\"'”’)]";

    /// <summary>The sentences of <paramref name="text"/>, in order, each trimmed and non-empty.</summary>
    public static IReadOnlyList<string> Sentences(string text)
    {
        var sentences = new List<string>();
        foreach (string paragraph in Paragraphs(text))
        {
            int start = 0;
            for (int i = 0; i < paragraph.Length; i++)
            {
                if (paragraph[i] is not ('.' or '!' or '?')) continue;
                int end = i + 1;
                while (end < paragraph.Length && Closers.Contains(paragraph[end])) end++;
                if (end < paragraph.Length && paragraph[end] != ' ') continue;
                sentences.Add(paragraph[start..end]);
                start = end + 1;
                i = end;
            }
            if (start < paragraph.Length) sentences.Add(paragraph[start..]);
        }
        return sentences;
    }

    /// <summary>The paragraphs of <paramref name="text"/> (split at blank lines), whitespace runs collapsed to one space.</summary>
    public static IReadOnlyList<string> Paragraphs(string text)
    {
        var paragraphs = new List<string>();
        var current = new StringBuilder();
        foreach (string line in text.Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                Flush();
                continue;
            }
            foreach (string word in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (current.Length > 0) current.Append(' ');
                current.Append(word);
            }
        }
        Flush();
        return paragraphs;

        void Flush()
        {
            if (current.Length > 0) paragraphs.Add(current.ToString());
            current.Clear();
        }
    }
}
