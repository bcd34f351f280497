using System.Security.Cryptography;
using Crate.Core.Data;
using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

public class BertWordPieceTokenizerTests
{
    private static string ShippedVocab => Path.Combine(DataTestFiles.RepoRoot(), "data", "bert-vocab", BertWordPieceTokenizer.ShippedVocabFileName);

    private static readonly Lazy<BertWordPieceTokenizer> Shipped = new(() => BertWordPieceTokenizer.Load(ShippedVocab));

    private static BertWordPieceTokenizer Bert => Shipped.Value;

    [Fact]
    public void Shipped_vocabulary_is_bert_base_uncased()
    {
        byte[] bytes = DataFiles.ReadAllBytesMaybeGzip(ShippedVocab);
        Assert.Equal(231_508, bytes.Length);
        Assert.Equal("07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3", Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(30522, Bert.VocabSize);
        Assert.Equal("wordpiece-uncased-07eced375cec", Bert.Name);
    }

    [Fact]
    public void Special_ids_of_bert_base_uncased()
    {
        Assert.Equal(0, Bert.PadId);
        Assert.Equal(100, Bert.UnkId);
        Assert.Equal(101, Bert.ClsId);
        Assert.Equal(102, Bert.SepId);
        Assert.Equal(103, Bert.MaskId);
        Assert.Equal(102, Bert.EndOfTextId);
        Assert.Equal("[unused0]", Bert.TokenOf(1));
        Assert.Equal(1996, Bert.IdOf("the"));
        Assert.Null(Bert.IdOf("transformer"));
        Assert.Equal([101, 1996, 102], Bert.WithSpecials([1996]));
        Assert.Equal([101, 1996, 102, 2317, 102], Bert.WithSpecials([1996], [2317]));
    }

    [Fact]
    public void Words_split_into_pieces_as_the_vocabulary_lines_say()
    {
        // id = line number - 1 in vocab.txt (grep -nxF): the 1997, transform 10939, ##er 2122, ' 1006, s 1056,
        // token 19205, ##ization 3990, , 1011, cafe 7669, ! 1000, una 14478, ##ffa 20962, ##ble 3469.
        // The pieces are greedy longest-match, as tools/fixtures/bert_wordpiece_reference.py computes from the file.
        Assert.Equal([1996], Bert.Encode("the"));
        Assert.Equal([1996, 10938, 2121, 1005, 1055, 19204, 3989, 1010, 7668, 999],
            Bert.Encode("the transformer's tokenization, cafe!"));
        Assert.Equal([14477, 20961, 3468], Bert.Encode("unaffable"));
    }

    [Fact]
    public void Uppercase_is_lowered_and_accents_stripped()
    {
        Assert.Equal(Bert.Encode("the transformer's tokenization, cafe!"), Bert.Encode("THE Transformer's TOKENIZATION, Café!"));
        Assert.Equal(Bert.Encode("naive resume"), Bert.Encode("Naïve RÉSUMÉ"));
        Assert.Equal([15743, 13746], Bert.Encode("Naïve RÉSUMÉ"));
    }

    [Fact]
    public void Decode_glues_pieces_back()
    {
        // Microsoft.ML.Tokenizers drops the space before punctuation, not after it (Hugging Face: "transformer's").
        Assert.Equal("the transformer' s tokenization, cafe!", Bert.Decode(Bert.Encode("The transformer's Tokenization, café!")));
        Assert.Equal("[CLS] the [SEP]", Bert.Decode([101, 1996, 102]));
    }

    [Fact]
    public void Offsets_give_word_starts_and_the_same_ids()
    {
        const string text = "The Transformer's  tokenization,\ncafé!";
        var (ids, starts) = Bert.EncodeWithOffsets(text);
        Assert.Equal(Bert.Encode(text), ids);
        Assert.Equal([0, 4, 4, 4, 4, 19, 19, 19, 33, 33], starts);
    }

    [Fact]
    public void Feeds_the_text_corpus_with_sep_after_each_document()
    {
        using var dir = new TempDir();
        string text = string.Join("\n\n", Enumerable.Range(0, 20).Select(k => $"Paragraph {k} begins here,\nand ends on this line.")) + "\n";
        File.WriteAllText(dir.File("book.txt"), text);
        using TokenCorpus corpus = TextCorpus.Open(dir.File("book.txt"), Bert, dir.File("cache"));
        int[] all = [.. corpus.Train.ReadAll().Concat(corpus.Val.ReadAll()).Select(i => (int)i)];
        Assert.Equal([.. Bert.Encode(text), 102], all);          // the cut is at a paragraph start, so nothing changes
        Assert.Equal("paragraph", corpus.Info!.Split.Kind);
        // 11 tokens a paragraph + [SEP] = 221; the 90% point floor(198.9) = token 198 starts paragraph 18.
        Assert.Equal(11, Bert.Encode("Paragraph 7 begins here,\nand ends on this line.").Length);
        Assert.StartsWith("paragraph 18 begins", Bert.Decode(corpus.Val.ReadAll().Select(i => (int)i)));
    }

    [Fact]
    public void Plain_and_gzipped_vocabularies_load_alike()
    {
        using var dir = new TempDir();
        string[] lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "!"];
        File.WriteAllText(dir.File("vocab.txt"), string.Join("\n", lines) + "\n");
        File.WriteAllBytes(dir.File("vocab.txt.gz"), DataTestFiles.Gzip(File.ReadAllBytes(dir.File("vocab.txt"))));
        foreach (string name in new[] { "vocab.txt", "vocab.txt.gz" })
        {
            var tok = BertWordPieceTokenizer.Load(dir.File(name));
            Assert.Equal(9, tok.VocabSize);
            Assert.Equal((0, 1, 2, 3, 4), (tok.PadId, tok.UnkId, tok.ClsId, tok.SepId, tok.MaskId));
            Assert.Equal([5, 6, 7, 8, 1], tok.Encode("Hello worlds! zebra"));
        }
    }

    [Fact]
    public void Vocabulary_without_specials_names_file_and_tokens()
    {
        using var dir = new TempDir();
        string path = dir.File("vocab.txt");
        File.WriteAllText(path, "[PAD]\n[UNK]\n[SEP]\nhello\n");
        var e = Assert.Throws<DatasetException>(() => BertWordPieceTokenizer.Load(path));
        Assert.Equal(DataErrorKind.Missing, e.Kind);
        Assert.StartsWith(path, e.Message);
        Assert.Contains("[CLS] [MASK]", e.Message);
        Assert.DoesNotContain("[PAD]", e.Message);

        File.WriteAllText(path, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n[UNK]\n");
        e = Assert.Throws<DatasetException>(() => BertWordPieceTokenizer.Load(path));
        Assert.Equal(DataErrorKind.Corrupt, e.Kind);
        Assert.Contains("line 7: token '[UNK]' repeats line 2", e.Message);
    }

    [Fact]
    public void Empty_or_non_utf8_vocabulary_is_rejected()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("empty.txt"), "");
        Assert.Equal(DataErrorKind.Empty, Assert.Throws<DatasetException>(() => BertWordPieceTokenizer.Load(dir.File("empty.txt"))).Kind);
        File.WriteAllBytes(dir.File("latin1.txt"), [(byte)'[', (byte)'P', 0xC0, (byte)'\n']);
        Assert.Equal(DataErrorKind.NotUtf8, Assert.Throws<DatasetException>(() => BertWordPieceTokenizer.Load(dir.File("latin1.txt"))).Kind);
    }
}
