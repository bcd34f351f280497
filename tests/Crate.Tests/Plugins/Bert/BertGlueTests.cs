using Crate.Core.Data.Text;
using Crate.Core.Training;
using Crate.Plugins.Bert;
using Crate.Tests.Data;

namespace Crate.Tests.Plugins.Bert;

/// <summary>GLUE as the downstream task: pair encoding and a smoke run on a tiny SST-2 folder.</summary>
public sealed class BertGlueTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static BertWordPieceTokenizer Tokenizer() => BertData.LoadTokenizer(BertSmokeFixture.Shipped(BertKeys.Vocab));

    [Fact]
    public void A_pair_is_cls_a_sep_b_sep_with_the_longer_text_cut_first()
    {
        var tok = Tokenizer();
        var a = tok.Encode("the cat sat on the mat near the door");          // 9 ids
        var b = tok.Encode("a dog");                                          // 2 ids
        var ids = BertData.Encode(tok, new GlueExample("the cat sat on the mat near the door", "a dog", 1, "f", 2), maxLen: 10);
        Assert.Equal(10, ids.Length);                                         // 3 specials + 5 of a + 2 of b
        Assert.Equal([tok.ClsId, .. a[..5], tok.SepId, .. b, tok.SepId], ids);
        var single = BertData.Encode(tok, new GlueExample("the cat sat on the mat near the door", null, 0, "f", 2), maxLen: 6);
        Assert.Equal([tok.ClsId, .. a[..4], tok.SepId], single);
    }

    [Fact]
    public void Sst2_from_a_glue_folder_runs_as_the_downstream_task()
    {
        string[] good = ["a fine film", "warm and funny", "a delight", "moving and wise", "great fun"];
        string[] bad = ["a dull mess", "tedious and flat", "a bore", "lifeless and cold", "awful"];
        string Rows(int n) => "sentence\tlabel\n" + string.Concat(Enumerable.Range(0, n).Select(i =>
            i % 2 == 0 ? $"{good[i / 2 % 5]} {i}\t1\n" : $"{bad[i / 2 % 5]} {i}\t0\n"));
        string sst = Path.Combine(_dir.Path, "glue", "SST-2");
        Directory.CreateDirectory(sst);
        File.WriteAllText(Path.Combine(sst, "train.tsv"), Rows(48));
        File.WriteAllText(Path.Combine(sst, "dev.tsv"), Rows(12));
        var task = new BertTask();
        var config = task.Schema.Resolve(BertPresets.Smoke.ValuesFor(BertModels.Bert),
            [KeyValuePair.Create("downstream.task", "sst2"), KeyValuePair.Create("data.dataset", "moby-dick")]);
        Assert.Equal([BertKeys.Vocab, BertKeys.MobyDick, BertKeys.Glue], task.RequiredDatasets(config));
        using var ctx = new LocalRunContext(Path.Combine(_dir.Path, "run"), seed: 0, config)
        {
            Task = "bert", Model = BertModels.Bert,
            DataDirectories = name => name == BertKeys.Glue ? Path.Combine(_dir.Path, "glue") : BertSmokeFixture.Shipped(name),
        };
        var result = task.Run(ctx);
        Assert.Equal(50.0, result.Metrics["majority_acc"]);                    // 6 of 12 dev rows per class
        Assert.InRange(result.Metrics["downstream_acc"], 0, 100);
        Assert.InRange(result.Metrics["bow_linear_top1"], 0, 100);
    }
}
