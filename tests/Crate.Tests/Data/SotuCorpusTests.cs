using Crate.Core.Data;
using Crate.Core.Data.Text;
using Crate.Plugins.Bert;

namespace Crate.Tests.Data;

public class SotuCorpusTests
{
    private static string Folder => Path.Combine(DataTestFiles.RepoRoot(), "data", "sotu");

    private static readonly Lazy<IReadOnlyList<SotuAddress>> Shipped = new(() => SotuCorpus.Load(Folder));

    [Fact]
    public void Shipped_corpus_has_233_addresses_with_their_parties()
    {
        var all = Shipped.Value;
        Assert.Equal(233, all.Count);
        Assert.Equal((1790, 2021), (all[0].Year, all[^1].Year));
        Assert.Equal(new SotuAddress(0, "1790_george_washington_n", Path.Combine(Folder, "1790_george_washington_n.txt.gz"), 1790, "George Washington", "none", "n"), all[0]);
        Assert.Equal(("Joseph R Biden", "Democratic", "d"), (all[^1].President, all[^1].Party, all[^1].PartyCode));
        var parties = all.GroupBy(a => a.Party).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(90, parties["Democratic"]);
        Assert.Equal(92, parties["Republican"]);
        Assert.Equal(28, parties["Democratic-Republican"]);
        Assert.Equal(233 - 182, all.Count(a => SotuPartyTask.LabelOf(a) is null));
        Assert.Equal(43, all.Select(a => a.President).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 233), all.Select(a => a.Index));
    }

    [Fact]
    public void Party_split_is_by_president_and_about_80_20()
    {
        var split = SotuPartySplit.Create(Shipped.Value);
        Assert.Equal(182, split.Train.Count + split.Test.Count);
        Assert.Empty(split.TrainPresidents.Intersect(split.TestPresidents));
        Assert.Equal(["Martin Van Buren", "Rutherford B Hayes", "William H Taft", "Woodrow Wilson", "Herbert Hoover", "Gerald R Ford", "Jimmy Carter", "Donald J Trump", "Joseph R Biden"],
            split.TestPresidents);
        Assert.Equal(36, split.Test.Count);
        Assert.Equal(17, split.Test.Count(a => a.Party == "Democratic"));
        Assert.Equal(19, split.Test.Count(a => a.Party == "Republican"));
        Assert.Equal(split.Test.Select(a => a.Id).ToHashSet(), split.ReservedDocumentIds);
        Assert.All(split.Train.Concat(split.Test), a => Assert.NotNull(SotuPartyTask.LabelOf(a)));

        var seeded = SotuPartySplit.Create(Shipped.Value, seed: 3);
        Assert.Equal(seeded.TestPresidents, SotuPartySplit.Create(Shipped.Value, seed: 3).TestPresidents);
        Assert.Empty(seeded.TrainPresidents.Intersect(seeded.TestPresidents));
        Assert.InRange(seeded.Test.Count / 182.0, 0.15, 0.25);
    }

    [Fact]
    public void Reserved_addresses_stay_out_of_pre_training()
    {
        var all = Shipped.Value;
        var split = SotuPartySplit.Create(all);
        // The documents only: texts are not needed for the split, so use short stand-ins.
        var docs = all.Select(a => new TextDocument(a.Id, "a.")).ToArray();
        using var dir = new TempDir();
        var corpus = MlmCorpus.Build(docs, TinyBert.Create(dir), 8, 0.1, 0, split.ReservedDocumentIds);
        Assert.Equal(36, corpus.ExcludedDocuments.Count);
        var used = corpus.TrainDocuments.Concat(corpus.ValidationDocuments).Select(d => docs[d].Id).ToHashSet();
        Assert.Equal(233 - 36, used.Count);
        Assert.Empty(used.Intersect(split.ReservedDocumentIds));
    }

    [Fact]
    public void Passages_of_one_address_are_labelled_and_at_most_128_tokens()
    {
        var bert = BertWordPieceTokenizer.Load(Path.Combine(DataTestFiles.RepoRoot(), "data", "bert-vocab", BertWordPieceTokenizer.ShippedVocabFileName));
        var all = Shipped.Value;
        SotuAddress biden = all[^1], washington = all[0];
        var passages = SotuPartyTask.Passages([washington, biden], bert);   // Washington (no party) is skipped
        Assert.NotEmpty(passages);
        Assert.All(passages, p =>
        {
            Assert.Equal((SotuPartyTask.DemocraticLabel, biden.Id, "Joseph R Biden"), (p.Label, p.AddressId, p.President));
            Assert.InRange(p.Ids.Length, 3, SotuPartyTask.MaxTokens);
            Assert.Equal((bert.ClsId, bert.SepId), (p.Ids[0], p.Ids[^1]));
        });
        // Packing loses no token: the passages hold the sentences' tokens in order.
        int[] sentenceTokens = TextSegmenter.Sentences(SotuCorpus.ReadDocument(biden).Text).SelectMany(bert.Encode).ToArray();
        Assert.Equal(sentenceTokens, passages.SelectMany(p => p.Ids[1..^1]));
        Assert.StartsWith("thank you. ( applause. ) thank you.", bert.Decode(passages[0].Ids[1..^1]));
    }

    [Fact]
    public void Package_file_names_work_without_an_index()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("1961_john_f_kennedy_d.txt"), "Mr. Speaker.");
        File.WriteAllText(dir.File("1961_dwight_d_eisenhower_r.txt"), "To the Congress.");
        var all = SotuCorpus.Load(dir.Path);
        Assert.Equal([("1961_dwight_d_eisenhower_r", "Dwight D Eisenhower", "Republican"), ("1961_john_f_kennedy_d", "John F Kennedy", "Democratic")],
            all.Select(a => (a.Id, a.President, a.Party)));
        File.WriteAllText(dir.File("1961_someone_x.txt"), "text");
        var e = Assert.Throws<DatasetException>(() => SotuCorpus.Load(dir.Path));
        Assert.EndsWith("1961_someone_x.txt", e.FilePath);
    }

    [Fact]
    public void Bad_index_names_file_line_and_column()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("1790_a_b_n.txt"), "text");
        File.WriteAllText(dir.File("index.tsv"), "file\tyear\tpresident\tparty\tparty_code\n1790_a_b_n.txt\t1790\tA B\n");
        var e = Assert.Throws<DatasetException>(() => SotuCorpus.Load(dir.Path));
        Assert.Equal(dir.File("index.tsv"), e.FilePath);
        Assert.Contains("line 2: missing column 'party'", e.Message);
        File.WriteAllText(dir.File("index.tsv"), "file\tyear\tpresident\tparty\n1790_a_b_n.txt\t1790\tA B\tnone\n");
        e = Assert.Throws<DatasetException>(() => SotuCorpus.Load(dir.Path));
        Assert.Contains("line 1: the header has no column 'party_code'", e.Message);
        File.WriteAllText(dir.File("index.tsv"), "file\tyear\tpresident\tparty\tparty_code\nmissing.txt\t1790\tA B\tnone\tn\n");
        e = Assert.Throws<DatasetException>(() => SotuCorpus.Load(dir.Path));
        Assert.Equal(DataErrorKind.Missing, e.Kind);
        Assert.EndsWith("missing.txt", e.FilePath);
    }
}
