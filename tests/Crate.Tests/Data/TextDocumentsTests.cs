using System.Text;
using Crate.Core.Data;
using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

public class TextDocumentsTests
{
    [Fact]
    public void Sentences_end_at_stops_and_paragraphs_join_wrapped_lines()
    {
        const string text = "Call me Ishmael. Some years\nago—never mind “how long.” Why?\n\n  Look at the crowds!Here 3.5 is\r\none.";
        Assert.Equal(["Call me Ishmael.", "Some years ago—never mind “how long.”", "Why?", "Look at the crowds!Here 3.5 is one."],
            TextSegmenter.Sentences(text));
        Assert.Equal(["Call me Ishmael. Some years ago—never mind “how long.” Why?", "Look at the crowds!Here 3.5 is one."],
            TextSegmenter.Paragraphs(text));
    }

    [Fact]
    public void Packing_fills_sequences_with_whole_sentences_and_cuts_only_overlong_ones()
    {
        using var dir = new TempDir();
        var tok = TinyBert.Create(dir);
        // sentences: [a b .] = 5 6 9, [c d c .] = 7 8 7 9, [a .] = 5 9; room = 6 - 2 = 4 tokens.
        Assert.Equal([[2, 5, 6, 9, 3], [2, 7, 8, 7, 9, 3], [2, 5, 9, 3]], SequencePacker.Pack("A b. C d c.\n\na.", tok, 6));
        Assert.Equal([[2, 5, 6, 9, 5, 9, 3]], SequencePacker.Pack("a b. a.", tok, 8));
        // one sentence of 10 tokens: two full sequences, its rest starts the third, the next sentence joins it.
        Assert.Equal([[2, 5, 6, 7, 8, 3], [2, 5, 6, 7, 8, 3], [2, 5, 9, 10, 3]], SequencePacker.Pack("a b c d a b c d a. !", tok, 6));
    }

    [Fact]
    public void Folder_documents_are_read_in_name_order_with_ids()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("b.txt"), "second");
        File.WriteAllBytes(dir.File("a.txt.gz"), DataTestFiles.Gzip(Encoding.UTF8.GetBytes("first")));
        File.WriteAllText(dir.File("notes.md"), "ignored");
        Assert.Equal([new TextDocument("a", "first"), new TextDocument("b", "second")], TextDocuments.Read(dir.Path));
    }

    [Fact]
    public void Bad_documents_name_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("a.txt"), "fine");
        File.WriteAllBytes(dir.File("b.txt"), [0x66, 0xFF, 0x66]);
        var e = Assert.Throws<DatasetException>(() => TextDocuments.Read(dir.Path));
        Assert.Equal(DataErrorKind.NotUtf8, e.Kind);
        Assert.EndsWith("b.txt", e.FilePath);
        File.WriteAllText(dir.File("b.txt"), " \n");
        e = Assert.Throws<DatasetException>(() => TextDocuments.Read(dir.Path));
        Assert.Equal(DataErrorKind.Empty, e.Kind);
        Assert.EndsWith("b.txt", e.FilePath);
    }

    [Fact]
    public void Split_at_headings_keeps_a_preface_and_numbers_parts()
    {
        var doc = new TextDocument("book", "Preface.\nCHAPTER 1. One\ntext\nCHAPTER 2. Two\nmore\n");
        var parts = TextDocuments.SplitAtHeadings(doc, new System.Text.RegularExpressions.Regex(@"^CHAPTER \d+\."));
        Assert.Equal([new("book#1", "Preface.\n"), new("book#2", "CHAPTER 1. One\ntext\n"), new TextDocument("book#3", "CHAPTER 2. Two\nmore\n")], parts);
    }

    [Fact]
    public void Shipped_moby_dick_has_135_chapters()
    {
        string path = Path.Combine(DataTestFiles.RepoRoot(), "data", "moby-dick", "mobydick.txt.gz");
        var chapters = TextDocuments.ReadChapters(path);
        Assert.Equal(135, chapters.Count);
        Assert.Equal("mobydick#1", chapters[0].Id);
        Assert.StartsWith("CHAPTER 1. Loomings.\n\nCall me Ishmael.", chapters[0].Text);
        Assert.StartsWith("CHAPTER 135. The Chase.—Third Day.", chapters[^1].Text);
        Assert.Equal(TextSource.ReadText(path), string.Concat(chapters.Select(c => c.Text)));
    }
}
