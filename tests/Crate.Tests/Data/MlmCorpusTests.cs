using Crate.Core.Data;
using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

public class MlmCorpusTests
{
    private static TextDocument[] Documents(int n) =>
        Enumerable.Range(0, n).Select(i => new TextDocument($"doc{i}", string.Concat(Enumerable.Repeat(i % 2 == 0 ? "a b. " : "c d. ", i + 1)))).ToArray();

    [Fact]
    public void Sequences_stay_inside_their_document()
    {
        using var dir = new TempDir();
        var tok = TinyBert.Create(dir);
        var corpus = MlmCorpus.Build(Documents(6), tok, maxLength: 8, validationFraction: 0.0);
        Assert.Empty(corpus.Validation);
        foreach (var seq in corpus.Train)
        {
            Assert.Equal(2, seq.Ids[0]);
            Assert.Equal(3, seq.Ids[^1]);
            Assert.True(seq.Ids.Length <= 8);
            // even documents hold only a b . (5 6 9), odd ones only c d . (7 8 9)
            int[] allowed = seq.Document % 2 == 0 ? [5, 6, 9] : [7, 8, 9];
            Assert.All(seq.Ids[1..^1], id => Assert.Contains(id, allowed));
        }
        // document i has i + 1 sentences of 3 tokens; 2 fit in a sequence of 8: ceil((i + 1) / 2) sequences each.
        Assert.Equal(1 + 1 + 2 + 2 + 3 + 3, corpus.Train.Count);
        Assert.Equal([0, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5], corpus.Train.Select(s => s.Document));
    }

    [Fact]
    public void Split_is_by_document_deterministic_and_honours_exclusions()
    {
        using var dir = new TempDir();
        var tok = TinyBert.Create(dir);
        var docs = Documents(10);
        var a = MlmCorpus.Build(docs, tok, 8, validationFraction: 0.2, seed: 7, exclude: ["doc3", "doc4"]);
        var b = MlmCorpus.Build(docs, tok, 8, validationFraction: 0.2, seed: 7, exclude: ["doc3", "doc4"]);
        Assert.Equal(a.ValidationDocuments, b.ValidationDocuments);
        Assert.Equal(["doc3", "doc4"], a.ExcludedDocuments);
        Assert.Equal(2, a.ValidationDocuments.Count);                       // round(0.2 * 8)
        Assert.Equal(6, a.TrainDocuments.Count);
        Assert.Empty(a.TrainDocuments.Intersect(a.ValidationDocuments));
        Assert.DoesNotContain(3, a.TrainDocuments.Concat(a.ValidationDocuments));
        Assert.DoesNotContain(4, a.TrainDocuments.Concat(a.ValidationDocuments));
        Assert.All(a.Validation, s => Assert.Contains(s.Document, a.ValidationDocuments));
        Assert.All(a.Train, s => Assert.Contains(s.Document, a.TrainDocuments));

        // the held-out documents are the first two of DataRng(7)'s shuffle of the kept indices
        int[] order = [0, 1, 2, 5, 6, 7, 8, 9];
        new DataRng(7).Shuffle(order.AsSpan());
        Assert.Equal(order.Take(2).Order(), a.ValidationDocuments);
        var other = Enumerable.Range(1, 20).Select(s => MlmCorpus.Build(docs, tok, 8, 0.2, (ulong)s).ValidationDocuments.ToArray());
        Assert.True(other.Select(v => string.Join(",", v)).Distinct().Count() > 1);
    }

    [Fact]
    public void One_document_cannot_be_split_by_document()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<ArgumentException>(() => MlmCorpus.Build(Documents(1), TinyBert.Create(dir), 8));
        Assert.Contains("at least 2 documents", ex.Message);
    }
}
