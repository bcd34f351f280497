using Crate.Core.Data.Text;
using Crate.Plugins.Bert;

namespace Crate.Tests.Data;

/// <summary>Bigram shift (<see cref="BigramShift"/>) and the bert task's split of it on the shipped State of the Union.</summary>
public class BigramShiftTests
{
    private static string Repo(string name) => Path.Combine(DataTestFiles.RepoRoot(), "data", name);

    private static readonly Lazy<BertWordPieceTokenizer> Bert = new(() => BertWordPieceTokenizer.Load(Path.Combine(Repo("bert-vocab"), "vocab.txt.gz")));

    [Fact]
    public void Words_group_a_piece_with_its_hash_hash_continuations()
    {
        var tok = Bert.Value;
        int[] ids = tok.Encode("the transmogrifying long sentence, ended.");
        var words = BigramShift.Words(ids, tok);
        var texts = words.Select(w => string.Concat(ids.Skip(w.Start).Take(w.Length).Select(tok.TokenOf)).Replace("##", "")).ToArray();
        Assert.Equal(["the", "transmogrifying", "long", "sentence", ",", "ended", "."], texts);
        Assert.Contains(words, w => w.Length > 1);                                  // "transmogrifying" is several pieces
        Assert.Empty(BigramShift.Words([], tok));
    }

    [Fact]
    public void A_shifted_sentence_swaps_two_adjacent_letter_words_and_keeps_its_bag()
    {
        var tok = Bert.Value;
        int[] pieces = tok.Encode("we hold these truths to be unbelievably evident , that all men are created equal");
        int shifted = 0, original = 0;
        for (ulong seed = 0; seed < 200; seed++)
        {
            var e = BigramShift.Example(pieces, tok, 64, 5, seed)!;
            Assert.Equal((tok.ClsId, tok.SepId), (e.Ids[0], e.Ids[^1]));
            Assert.Equal(pieces.Order(), e.Ids[1..^1].Order());                     // the same bag of tokens in both classes
            if (e.Label == BigramShift.OriginalLabel)
            {
                original++;
                Assert.Equal(-1, e.SwappedWord);
                Assert.Equal(pieces, e.Ids[1..^1]);
                continue;
            }
            shifted++;
            var words = BigramShift.Words(pieces, tok);
            var (a, b) = (words[e.SwappedWord], words[e.SwappedWord + 1]);
            Assert.Equal(BigramShift.Swap(pieces, a, b), e.Ids[1..^1]);
            Assert.NotEqual(pieces, e.Ids[1..^1]);
            Assert.All(pieces.Skip(a.Start).Take(a.Length + b.Length).Select(tok.TokenOf), t => Assert.True(t.Replace("##", "").All(char.IsLetter), t));
        }
        Assert.InRange(shifted, 70, 130);                                           // a fair coin over 200 seeds
        Assert.Equal(200, shifted + original);
        Assert.Equal(BigramShift.Example(pieces, tok, 64, 5, 7), BigramShift.Example(pieces, tok, 64, 5, 7), new ExampleComparer());
    }

    [Fact]
    public void Sentences_too_short_too_long_or_without_a_swappable_pair_are_not_used()
    {
        var tok = Bert.Value;
        Assert.Null(BigramShift.Example(tok.Encode("four words only here"), tok, 64, 5, 0));
        Assert.Null(BigramShift.Example(tok.Encode("one two three four five six seven eight nine ten"), tok, 8, 5, 0));
        Assert.Null(BigramShift.Example(tok.Encode("1790 , 1791 , 1792 , 1793"), tok, 64, 5, 0));       // numbers and commas only
        Assert.Null(BigramShift.Example(tok.Encode("the the , the the ; the the"), tok, 64, 5, 0));     // equal neighbours only
    }

    [Fact]
    public void The_bert_task_tests_on_the_reserved_addresses_with_balanced_classes_the_same_for_every_run()
    {
        var addresses = SotuCorpus.Load(Repo("sotu"));
        var reserved = SotuPartySplit.Create(addresses).ReservedDocumentIds;
        var reservedIndex = addresses.Where(a => reserved.Contains(a.Id)).Select(a => a.Index).ToHashSet();
        var task = BertData.BigramShiftTask(addresses, Bert.Value, 64);
        Assert.Equal(BigramShift.ClassNames, task.ClassNames);
        Assert.InRange(task.Train.Count, 40_000, 60_000);
        Assert.InRange(task.Test.Count, 4_000, 10_000);
        foreach (var split in new[] { task.Train, task.Test })
        {
            Assert.InRange(split.Labels.Average(), 0.47, 0.53);
            Assert.All(split.Ids, ids => Assert.InRange(ids.Length, 7, 64));
        }
        // Test sentences come from the reserved addresses only: recompute them from those documents alone.
        var test = BigramShift.Examples(addresses.Where(a => reservedIndex.Contains(a.Index)).Select(a => (a.Index, SotuCorpus.ReadDocument(a))).ToArray(),
            Bert.Value, 64, BertData.BigramShiftMinWords);
        Assert.Equal(test.Select(e => e.Ids), task.Test.Ids);
        Assert.Equal(test.Select(e => e.Label), task.Test.Labels);
        Assert.All(test, e => Assert.Contains(e.Document, reservedIndex));
        var again = BertData.BigramShiftTask(addresses, Bert.Value, 64);
        Assert.Equal(task.Train.Labels, again.Train.Labels);
        Assert.Equal(task.Train.Ids, again.Train.Ids);
    }

    private sealed class ExampleComparer : IEqualityComparer<ShiftExample?>
    {
        public bool Equals(ShiftExample? x, ShiftExample? y) => x is not null && y is not null && x.Ids.SequenceEqual(y.Ids) && x.Label == y.Label && x.SwappedWord == y.SwappedWord;
        public int GetHashCode(ShiftExample? e) => e?.Label ?? 0;
    }
}
