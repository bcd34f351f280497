using System.Text;
using Crate.Core.Data;
using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

public class TextCorpusTests
{
    /// <summary>20 paragraphs "Paragraph k ..." of two lines each, separated by blank lines.</summary>
    private static string Paragraphs(int count = 20) =>
        string.Join("\n\n", Enumerable.Range(0, count).Select(k => $"Paragraph {k:D2} begins here,\nand ends on this line.")) + "\n";

    private static string Decode(TokenFile file, ITextTokenizer tok) => tok.Decode(file.ReadAll().Select(i => (int)i));

    [Fact]
    public void Single_file_splits_at_a_paragraph_after_ninety_percent()
    {
        using var dir = new TempDir();
        string text = Paragraphs();
        File.WriteAllText(dir.File("book.txt"), text);
        var tok = new CharTokenizer();

        using TokenCorpus corpus = TextCorpus.Open(dir.File("book.txt"), tok, dir.File("cache"));

        string train = Decode(corpus.Train, tok), val = Decode(corpus.Val, tok);
        Assert.Equal(text + "\u0003", train + val);                        // nothing lost; end-of-text after the document
        Assert.StartsWith("Paragraph ", val);
        Assert.EndsWith("line.\n\n", train);
        double share = (double)corpus.Val.Length / (corpus.Train.Length + corpus.Val.Length);
        Assert.InRange(share, 0.05, 0.10);                               // at most 10%, cut forward to a paragraph
        Assert.True(text.Length - text.IndexOf(val[..12], StringComparison.Ordinal) + 1 == val.Length);
        Assert.Equal("paragraph", corpus.Info!.Split.Kind);
        Assert.Equal(corpus.Train.Length, corpus.Info.TrainTokens);
    }

    [Fact]
    public void Cache_is_reused_and_rebuilt_when_the_source_or_tokenizer_changes()
    {
        using var dir = new TempDir();
        string source = dir.File("book.txt"), cache = dir.File("cache");
        File.WriteAllText(source, Paragraphs());

        string first = TextCorpus.Prepare(source, new CharTokenizer(), cache);
        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(first, "train.bin"));
        string again = TextCorpus.Prepare(source, new CharTokenizer(), cache);
        string otherTokenizer = TextCorpus.Prepare(source, new CharTokenizer("chars-v2"), cache);
        File.WriteAllText(source, Paragraphs(30));
        File.SetLastWriteTimeUtc(source, DateTime.UtcNow.AddMinutes(1));
        string changed = TextCorpus.Prepare(source, new CharTokenizer(), cache);

        Assert.Equal(first, again);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(again, "train.bin")));
        Assert.NotEqual(first, otherTokenizer);
        Assert.NotEqual(first, changed);
        Assert.StartsWith("book-chars-", Path.GetFileName(first));
        using var reread = TextCorpus.OpenPrepared(changed, 128);
        Assert.True(reread.Train.Length > 30 * 40);
        Assert.Empty(Directory.GetDirectories(cache, ".tmp-*"));
    }

    [Fact]
    public void Folder_documents_are_read_in_name_order_with_end_of_text_between()
    {
        using var dir = new TempDir();
        string src = dir.File("corpus");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "b.txt"), new string('b', 100));
        File.WriteAllBytes(Path.Combine(src, "a.txt.gz"), DataTestFiles.Gzip(Encoding.UTF8.GetBytes(new string('a', 400))));
        File.WriteAllText(Path.Combine(src, "c.TXT"), new string('c', 60));
        File.WriteAllText(Path.Combine(src, "notes.md"), "ignored");
        var tok = new CharTokenizer();

        Assert.Equal(["a.txt.gz", "b.txt", "c.TXT"], TextSource.ListFiles(src).Select(Path.GetFileName));
        using TokenCorpus corpus = TextCorpus.Open(src, tok, dir.File("cache"));

        // 563 tokens; 90% is token 506, inside c.TXT, which has no blank line: cut before c (no earlier paragraph in it).
        Assert.Equal(new string('a', 400) + "\u0003" + new string('b', 100) + "\u0003", Decode(corpus.Train, tok));
        Assert.Equal(new string('c', 60) + "\u0003", Decode(corpus.Val, tok));
        Assert.Equal(new TextSplitPoint(Path.Combine(Path.GetFullPath(src), "c.TXT"), 0, "document"), corpus.Info!.Split);
    }

    [Fact]
    public void Document_without_a_later_paragraph_ends_the_training_part()
    {
        using var dir = new TempDir();
        string src = dir.File("corpus");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "1.txt"), new string('x', 950));
        File.WriteAllText(Path.Combine(src, "2.txt"), new string('y', 48));
        var tok = new CharTokenizer();

        using TokenCorpus corpus = TextCorpus.Open(src, tok, dir.File("cache"));

        Assert.Equal(951, corpus.Train.Length);   // all of 1.txt and its end-of-text
        Assert.Equal(49, corpus.Val.Length);
    }

    [Fact]
    public void Nanogpt_prepared_folder_is_used_as_it_is()
    {
        using var dir = new TempDir();
        // What nanoGPT's prepare.py writes: encode_ordinary(doc) + [50256] per document, as uint16.
        int[] doc = Gpt2Tokenizer.Shared.Encode("Hello world!");
        File.WriteAllBytes(dir.File("train.bin"), TokenBytes.Of([.. doc, 50256, .. doc, 50256]));
        File.WriteAllBytes(dir.File("val.bin"), TokenBytes.Of([.. doc, 50256]));

        using TokenCorpus corpus = TextCorpus.Open(dir.Path, Gpt2Tokenizer.Shared, dir.File("cache"));

        Assert.Null(corpus.Info);
        Assert.Equal(8, corpus.Train.Length);
        Assert.Equal(new ushort[] { 15496, 995, 0, 50256 }, corpus.Val.ReadAll());
        Assert.False(Directory.Exists(dir.File("cache")));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x20, 0x0A, 0x09 })]
    public void Empty_text_is_reported(byte[] content)
    {
        using var dir = new TempDir();
        string path = dir.File("empty.txt");
        File.WriteAllBytes(path, content);

        var e = Assert.Throws<DatasetException>(() => TextCorpus.Prepare(path, new CharTokenizer(), dir.File("cache")));

        Assert.Equal(DataErrorKind.Empty, e.Kind);
        Assert.Equal(Path.GetFullPath(path), e.FilePath);
    }

    [Fact]
    public void Invalid_utf8_is_reported_with_its_offset()
    {
        using var dir = new TempDir();
        string path = dir.File("latin1.txt");
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes("caf"), 0xE9, .. Encoding.ASCII.GetBytes(" au lait\n")]);   // Latin-1 é

        var e = Assert.Throws<DatasetException>(() => TextCorpus.Prepare(path, new CharTokenizer(), dir.File("cache")));

        Assert.Equal(DataErrorKind.NotUtf8, e.Kind);
        Assert.Contains("at byte 3", e.Message);
    }

    [Fact]
    public void File_with_one_record_per_line_and_no_blank_lines_splits_at_the_line_after_ninety_percent()
    {
        using var dir = new TempDir();
        // 100 lines of 10 characters ("verse NN.\n"), 1,000 characters in all.
        string text = string.Concat(Enumerable.Range(0, 100).Select(k => $"verse {k:D2}.\n"));
        File.WriteAllText(dir.File("verses.txt"), text);
        var tok = new CharTokenizer();

        using TokenCorpus corpus = TextCorpus.Open(dir.File("verses.txt"), tok, dir.File("cache"));

        // 1,001 tokens with end-of-text; 90 % is token 900 = the start of line 91 ("verse 90."), a line start itself.
        Assert.Equal(900, corpus.Train.Length);
        Assert.Equal(101, corpus.Val.Length);
        Assert.StartsWith("verse 90.\n", Decode(corpus.Val, tok));
        Assert.EndsWith("verse 89.\n", Decode(corpus.Train, tok));
        var split = corpus.Info!.Split;
        Assert.Equal(("line", 900, 91), (split.Kind, split.CharOffset, split.Line));
        Assert.Equal($"validation starts at line 91 of {dir.File("verses.txt")} (a line boundary)", split.Describe());
    }

    [Fact]
    public void A_line_split_moves_forward_to_the_next_line_start()
    {
        using var dir = new TempDir();
        // 22 lines of 7 characters ("ab cde\n") = 154 characters + end-of-text = 155 tokens; 90 % is token
        // floor(155 * 0.9) = 139, the last character of line 20 (133..139): the cut moves to 140, the start of line 21.
        File.WriteAllText(dir.File("a.txt"), string.Concat(Enumerable.Repeat("ab cde\n", 22)));
        using TokenCorpus corpus = TextCorpus.Open(dir.File("a.txt"), new CharTokenizer(), dir.File("cache"));
        Assert.Equal((140L, 15L), (corpus.Train.Length, corpus.Val.Length));
        Assert.Equal(21, corpus.Info!.Split.Line);
    }

    [Fact]
    public void Unsplittable_and_missing_sources_are_reported()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("one-line.txt"), "a single paragraph without any blank line at all");
        var one = Assert.Throws<DatasetException>(() => TextCorpus.Prepare(dir.File("one-line.txt"), new CharTokenizer(), dir.File("cache")));
        Assert.Contains("cannot split", one.Message);

        Directory.CreateDirectory(dir.File("no-text"));
        File.WriteAllText(Path.Combine(dir.File("no-text"), "x.csv"), "1,2");
        Assert.Equal(DataErrorKind.Empty, Assert.Throws<DatasetException>(() => TextCorpus.Prepare(dir.File("no-text"), new CharTokenizer(), dir.File("cache"))).Kind);
        Assert.Equal(DataErrorKind.Missing, Assert.Throws<DatasetException>(() => TextCorpus.Prepare(dir.File("nope"), new CharTokenizer(), dir.File("cache"))).Kind);
    }

    [Fact]
    public void Shipped_moby_dick_has_the_documented_split()
    {
        using var dir = new TempDir();
        string source = Path.Combine(DataTestFiles.RepoRoot(), "data", "moby-dick", "mobydick.txt.gz");

        using TokenCorpus corpus = TextCorpus.Open(source, Gpt2Tokenizer.Shared, dir.File("cache"));

        Assert.Equal(MobyDick.TrainTokens, corpus.Train.Length);
        Assert.Equal(MobyDick.ValTokens, corpus.Val.Length);
        Assert.Equal(MobyDick.SplitChar, corpus.Info!.Split.CharOffset);
        Assert.Equal(MobyDick.TrainUnigramEntropy, TokenStatistics.UnigramEntropy(corpus.Train), 3);
        string valStart = Gpt2Tokenizer.Shared.Decode(corpus.Val.ReadAll().Take(11).Select(i => (int)i));
        Assert.StartsWith(MobyDick.ValStartsWith, valStart);
    }
}

/// <summary>The split of the shipped Moby-Dick documented in data/README.md (GPT-2 tokens).</summary>
internal static class MobyDick
{
    public const long TrainTokens = 285_991;
    public const long ValTokens = 31_765;
    public const int SplitChar = 1_077_901;
    public const double TrainUnigramEntropy = 6.767273;
    public const string ValStartsWith = "“Forward, there! Heave the log!";
}
