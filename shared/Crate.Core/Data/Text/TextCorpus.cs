using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Crate.Core.Data.Text;

/// <summary>One source file as it entered the cache key.</summary>
public sealed record TextSourceFile(string Path, long Bytes, DateTime LastWriteUtc);

/// <summary>Where the train/val cut fell.</summary>
/// <param name="Document">The document the cut is in (or at whose start it is).</param>
/// <param name="CharOffset">Characters of that document that went to train.</param>
/// <param name="Kind">"paragraph" (after a blank line), "line" (at a line start, in a text without blank lines there) or "document" (between documents).</param>
/// <param name="Line">The 1-based line of <paramref name="Document"/> where validation starts (null in caches written before it was recorded).</param>
public sealed record TextSplitPoint(string Document, int CharOffset, string Kind, int? Line = null)
{
    /// <summary>"validation starts at line 901 of book.txt (a line boundary)" for logs and notes.</summary>
    public string Describe() => Kind switch
    {
        "document" => $"validation starts with the document {Document}",
        _ => $"validation starts at {(Line is int l ? $"line {l}" : $"character {CharOffset}")} of {Document} (a {(Kind == "line" ? "line" : "paragraph")} boundary)",
    };
}

/// <summary>The <c>meta.json</c> of a prepared corpus.</summary>
public sealed record TextCorpusInfo(string Format, string Tokenizer, int VocabSize, double ValFraction,
    IReadOnlyList<TextSourceFile> Sources, long TrainTokens, long ValTokens, TextSplitPoint Split);

/// <summary>A corpus's train and validation token files, open.</summary>
public sealed class TokenCorpus : IDisposable
{
    internal TokenCorpus(string directory, TokenFile train, TokenFile val, TextCorpusInfo? info)
    {
        Directory = directory;
        Train = train;
        Val = val;
        Info = info;
    }

    /// <summary>The folder holding <c>train.bin</c> and <c>val.bin</c>.</summary>
    public string Directory { get; }

    /// <summary>Training tokens.</summary>
    public TokenFile Train { get; }

    /// <summary>Validation tokens.</summary>
    public TokenFile Val { get; }

    /// <summary>How the cache was made (null for a folder prepared elsewhere, e.g. by nanoGPT).</summary>
    public TextCorpusInfo? Info { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        Train.Dispose();
        Val.Dispose();
    }
}

/// <summary>
/// Turns raw text into nanoGPT token files once and caches them. Every document (file) is tokenised and
/// followed by the tokenizer's end-of-text id (as nanoGPT's prepare.py does), then the stream is split:
/// <b>validation = the last <c>valFraction</c> (default 10%) of the tokens, moved forward to the next
/// paragraph start</b> (the first non-blank character after a blank line) in the document where the 90%
/// point falls; failing that, the end of that document if another follows, else the next line start (a file
/// with one sentence, verse or record per line and no blank lines, split near 90 % as nanoGPT's prepare.py
/// splits its text), else the last paragraph or line start before the point, else the start of that document. The text on each side of a cut inside a document is
/// tokenised separately (the end-of-text id follows only the document's end).
/// The cache folder is <c>cacheRoot/&lt;source&gt;-&lt;tokenizer&gt;-&lt;key&gt;</c>, where the key hashes the format
/// version, tokenizer name and vocabulary, the fraction and every source file's full path, size and
/// modification time, so a changed corpus or tokenizer is tokenised anew.
/// </summary>
public static class TextCorpus
{
    /// <summary>The share of tokens held out for validation by default.</summary>
    public const double DefaultValFraction = 0.1;

    private const string Format = "crate-text-cache/1";

    /// <summary>
    /// Opens a corpus: a folder with <c>train.bin</c> and <c>val.bin</c> (nanoGPT's prepare.py output,
    /// e.g. OpenWebText) is used as it is; anything else is raw text, prepared into the cache first.
    /// </summary>
    public static TokenCorpus Open(string source, ITextTokenizer tokenizer, string cacheRoot, double valFraction = DefaultValFraction)
    {
        if (Directory.Exists(source) && File.Exists(Path.Combine(source, "train.bin")) && File.Exists(Path.Combine(source, "val.bin")))
            return OpenPrepared(source, tokenizer.VocabSize);
        return OpenPrepared(Prepare(source, tokenizer, cacheRoot, valFraction), tokenizer.VocabSize);
    }

    /// <summary>Opens <c>train.bin</c> and <c>val.bin</c> in <paramref name="directory"/>, checking ids against <paramref name="vocabSize"/>.</summary>
    public static TokenCorpus OpenPrepared(string directory, int vocabSize)
    {
        var train = TokenFile.Open(Path.Combine(directory, "train.bin"), vocabSize);
        try
        {
            var val = TokenFile.Open(Path.Combine(directory, "val.bin"), vocabSize);
            string metaPath = Path.Combine(directory, "meta.json");
            var info = File.Exists(metaPath) ? JsonSerializer.Deserialize<TextCorpusInfo>(File.ReadAllText(metaPath)) : null;
            return new TokenCorpus(directory, train, val, info);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>Tokenises <paramref name="source"/> into the cache unless it is there already; returns the folder.</summary>
    public static string Prepare(string source, ITextTokenizer tokenizer, string cacheRoot, double valFraction = DefaultValFraction)
    {
        if (valFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(valFraction), valFraction, "in (0, 1)");
        if (tokenizer.VocabSize > 65536) throw new ArgumentException($"{tokenizer.Name}: {tokenizer.VocabSize} ids do not fit uint16 token files");
        IReadOnlyList<string> files = TextSource.ListFiles(source);
        var sources = files.Select(f => new TextSourceFile(f, new FileInfo(f).Length, File.GetLastWriteTimeUtc(f))).ToArray();
        string folder = Path.Combine(cacheRoot, $"{SafeName(source)}-{tokenizer.Name}-{CacheKey(sources, tokenizer, valFraction)}");
        if (File.Exists(Path.Combine(folder, "meta.json"))) return folder;

        Directory.CreateDirectory(cacheRoot);
        string temp = Path.Combine(cacheRoot, $".tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            TextCorpusInfo info = Tokenise(sources, tokenizer, valFraction, temp);
            File.WriteAllText(Path.Combine(temp, "meta.json"), JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }));
            try { Directory.Move(temp, folder); }
            catch (IOException) when (File.Exists(Path.Combine(folder, "meta.json"))) { }   // another process won the race
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        return folder;
    }

    /// <summary>The cache key: 16 hex digits of a SHA-256 over format, tokenizer, fraction and source files.</summary>
    public static string CacheKey(IReadOnlyList<TextSourceFile> sources, ITextTokenizer tokenizer, double valFraction)
    {
        var text = new StringBuilder($"{Format}\n{tokenizer.Name}\n{tokenizer.VocabSize}\n{tokenizer.EndOfTextId}\n{valFraction:R}\n");
        foreach (var s in sources) text.Append($"{s.Path}\n{s.Bytes}\n{s.LastWriteUtc.Ticks}\n");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }

    private static TextCorpusInfo Tokenise(TextSourceFile[] sources, ITextTokenizer tokenizer, double valFraction, string folder)
    {
        // Pass 1: every document, tokenised and followed by end-of-text, into all.bin.
        string allPath = Path.Combine(folder, "all.bin");
        var counts = new long[sources.Length];
        using (var all = new TokenFileWriter(allPath, tokenizer.VocabSize))
            for (int d = 0; d < sources.Length; d++)
            {
                long before = all.Count;
                all.Append(WithEnd(tokenizer.Encode(TextSource.ReadText(sources[d].Path)), tokenizer));
                counts[d] = all.Count - before;
            }
        long total = counts.Sum();
        long target = (long)Math.Floor(total * (1 - valFraction));

        // The document holding the target token, and the cut inside or around it.
        int doc = 0;
        long docStart = 0;
        while (doc < sources.Length - 1 && docStart + counts[doc] <= target) docStart += counts[doc++];
        string text = TextSource.ReadText(sources[doc].Path);
        var (ids, starts) = tokenizer.EncodeWithOffsets(text);
        long k = target - docStart;
        int charPos = k < ids.Length ? starts[k] : text.Length;
        List<int> paragraphs = ParagraphStarts(text);
        List<int> lines = LineStarts(text);

        // Cut inside the document at a paragraph or line start (0: no such cut), or at a document boundary.
        int cut = 0, boundary = -1;
        string kind = "paragraph";
        if (k == 0 && doc > 0) boundary = doc;
        else if (paragraphs.FirstOrDefault(p => p >= charPos) is int after && after > 0) cut = after;
        else if (doc + 1 < sources.Length) boundary = doc + 1;
        else if (lines.FirstOrDefault(p => p >= charPos) is int lineAfter && lineAfter > 0) (cut, kind) = (lineAfter, "line");
        else if (paragraphs.LastOrDefault(p => p < charPos) is int before && before > 0) cut = before;
        else if (lines.LastOrDefault(p => p < charPos) is int lineBefore && lineBefore > 0) (cut, kind) = (lineBefore, "line");
        else if (doc > 0) boundary = doc;
        else
            throw new DatasetException(sources[doc].Path, DataErrorKind.Empty,
                "cannot split one document of a single line into train and validation; add line breaks or more files");

        string trainPath = Path.Combine(folder, "train.bin"), valPath = Path.Combine(folder, "val.bin");
        TextSplitPoint split;
        long trainTokens, valTokens;
        using (var train = new TokenFileWriter(trainPath, tokenizer.VocabSize))
        using (var val = new TokenFileWriter(valPath, tokenizer.VocabSize))
        using (var allStream = File.OpenRead(allPath))
        {
            if (boundary < 0)
            {
                CopyTokens(allStream, 0, docStart, train);
                train.Append(tokenizer.Encode(text[..cut]));
                val.Append(WithEnd(tokenizer.Encode(text[cut..]), tokenizer));
                CopyTokens(allStream, docStart + counts[doc], total, val);
                split = new TextSplitPoint(sources[doc].Path, cut, kind, text.AsSpan(0, cut).Count('\n') + 1);
            }
            else
            {
                long at = counts.Take(boundary).Sum();
                CopyTokens(allStream, 0, at, train);
                CopyTokens(allStream, at, total, val);
                split = new TextSplitPoint(sources[boundary].Path, 0, "document");
            }
            trainTokens = train.Count;
            valTokens = val.Count;
        }
        File.Delete(allPath);
        if (trainTokens == 0 || valTokens == 0)
            throw new DatasetException(sources[doc].Path, DataErrorKind.Empty, $"split left {trainTokens} train and {valTokens} validation tokens");
        return new TextCorpusInfo(Format, tokenizer.Name, tokenizer.VocabSize, valFraction, sources, trainTokens, valTokens, split);
    }

    /// <summary>Character offsets where a paragraph starts: the first non-blank character after a blank line.</summary>
    internal static List<int> ParagraphStarts(string text)
    {
        var starts = new List<int>();
        for (int i = text.IndexOf('\n'); i >= 0 && i < text.Length - 1; i = text.IndexOf('\n', i + 1))
        {
            int j = i + 1;
            while (j < text.Length && text[j] is ' ' or '\t' or '\r') j++;
            if (j >= text.Length || text[j] != '\n') continue;          // the next line is not blank
            while (j < text.Length && char.IsWhiteSpace(text[j])) j++;  // skip all blank lines
            if (j < text.Length) starts.Add(j);
            i = j - 1;
        }
        return starts;
    }

    /// <summary>Character offsets where a line with text starts (after a line break, not at the very end).</summary>
    internal static List<int> LineStarts(string text)
    {
        var starts = new List<int>();
        int last = text.Length - 1;
        while (last >= 0 && char.IsWhiteSpace(text[last])) last--;                 // the last character with text
        for (int i = text.IndexOf('\n'); i >= 0 && i < last; i = text.IndexOf('\n', i + 1)) starts.Add(i + 1);
        return starts;
    }

    private static ReadOnlySpan<int> WithEnd(int[] ids, ITextTokenizer tokenizer) =>
        tokenizer.EndOfTextId is int end ? [.. ids, end] : ids;

    private static void CopyTokens(FileStream from, long startToken, long endToken, TokenFileWriter to)
    {
        var buffer = new byte[1 << 17];
        from.Position = startToken * 2;
        long remaining = (endToken - startToken) * 2;
        while (remaining > 0)
        {
            int n = from.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (n == 0) throw new IOException($"{from.Name}: ended early");
            to.Append(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(buffer.AsSpan(0, n)));
            remaining -= n;
        }
    }

    private static string SafeName(string source)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source)));
        foreach (string ext in new[] { ".gz", ".txt" })
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) name = name[..^ext.Length];
        var safe = new string(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return safe.Length == 0 ? "text" : safe;
    }
}
