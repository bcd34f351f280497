using Crate.Core.Data.Text;
using Crate.Plugins.Bert;

namespace Crate.Tests.Data;

/// <summary>The pruned WordPiece vocabulary (<see cref="WordPieceVocabulary"/>) and the shipped <c>data/sotu-vocab</c>.</summary>
public class WordPieceVocabularyTests
{
    private static string Repo(string name) => Path.Combine(DataTestFiles.RepoRoot(), "data", name);

    [Fact]
    public void Prune_keeps_specials_spelling_characters_and_the_most_used_tokens_in_the_original_order()
    {
        using var dir = new TempDir();
        string path = dir.File("vocab.txt");
        File.WriteAllText(path, string.Join("\n", "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "z", "##a", "##b", "##c", "##z", "ab", "abc", "ca", "zz", "##bc") + "\n");
        var tok = BertWordPieceTokenizer.Load(path);
        // "abc" x3 (one token), "ca" x2, "ab" x1; "zz" unused.
        var pruned = WordPieceVocabulary.Prune(tok, ["abc abc ca", "abc ab ca"], size: 12);
        // Specials (5); spelling: a, c (word starts of abc, ab, ca), ##b, ##c, ##a (10 so far; "b" never starts a word); then
        // the most used until 12: abc (3), ca (2); ab (1) is left out and becomes a ##b.
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "c", "##a", "##b", "##c", "abc", "ca"], pruned);
        Assert.Throws<ArgumentException>(() => WordPieceVocabulary.Prune(tok, ["abc ca"], size: 8));

        // Written and read back, the pruned vocabulary still spells every word of the corpus without [UNK].
        string small = dir.File("small.txt.gz");
        WordPieceVocabulary.Write(pruned, small);
        var reread = BertWordPieceTokenizer.Load(small);
        Assert.Equal(pruned, Enumerable.Range(0, reread.VocabSize).Select(reread.TokenOf));
        Assert.DoesNotContain(reread.UnkId, reread.Encode("abc ab ca"));
    }

    [Fact]
    public void The_shipped_sotu_vocabulary_is_what_the_rule_builds_and_spells_the_whole_corpus()
    {
        var bert = BertWordPieceTokenizer.Load(Path.Combine(Repo("bert-vocab"), "vocab.txt.gz"));
        var addresses = SotuCorpus.Load(Repo("sotu"));
        var built = SotuVocabulary.Build(bert, addresses);
        var shipped = BertWordPieceTokenizer.Load(Path.Combine(Repo("sotu-vocab"), BertWordPieceTokenizer.ShippedVocabFileName));
        Assert.Equal(SotuVocabulary.Size, shipped.VocabSize);
        Assert.Equal(built, Enumerable.Range(0, shipped.VocabSize).Select(shipped.TokenOf));
        Assert.Equal((0, 1, 2, 3, 4), (shipped.PadId, shipped.UnkId, shipped.ClsId, shipped.SepId, shipped.MaskId));
        // Every address, the reserved test addresses included, encodes without [UNK], as with bert-base-uncased.
        var texts = SotuCorpus.ReadDocuments(addresses).Select(d => d.Text).ToArray();
        var counts = WordPieceVocabulary.Counts(shipped, texts);
        Assert.Equal(WordPieceVocabulary.Counts(bert, texts)[bert.UnkId], counts[shipped.UnkId]);
    }
}
