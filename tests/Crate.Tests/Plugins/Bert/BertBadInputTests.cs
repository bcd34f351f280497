using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Training;
using Crate.Plugins.Bert;
using Crate.Tests.Data;

namespace Crate.Tests.Plugins.Bert;

/// <summary>Bad corpora, vocabularies and GLUE files: a <see cref="BadInputException"/> naming the file and cause, before any row is written.</summary>
public sealed class BertBadInputTests : IDisposable
{
    private readonly BertTask _task = new();
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private DatasetException Fails(Func<string, string> data, params (string Key, string Value)[] changes)
    {
        var config = _task.Schema.Resolve(BertPresets.Smoke.ValuesFor(BertModels.Crate), changes.Select(c => KeyValuePair.Create(c.Key, c.Value)));
        using var ctx = new LocalRunContext(Path.Combine(_dir.Path, "run"), seed: 0, config) { Task = "bert", Model = BertModels.Crate, DataDirectories = data };
        var e = Assert.Throws<DatasetException>(() => _task.Run(ctx));
        Assert.IsAssignableFrom<BadInputException>(e);
        Assert.Empty(ctx.Epochs);
        Assert.Empty(ctx.WhiteBox);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    private Func<string, string> With(string name, string folder) => n => n == name ? folder : BertSmokeFixture.Shipped(n);

    private string Folder(string name, params (string File, byte[] Bytes)[] files)
    {
        string dir = Path.Combine(_dir.Path, name);
        Directory.CreateDirectory(dir);
        foreach (var (file, bytes) in files) File.WriteAllBytes(Path.Combine(dir, file), bytes);
        return dir;
    }

    [Fact]
    public void Text_that_is_not_utf8_names_the_file()
    {
        string dir = Folder("latin1", ("a.txt", [.. "Call me Ishmael. Some years ago, "u8, 0xE9, (byte)'t', (byte)'\n']), ("b.txt", "Another document.\n"u8.ToArray()));
        var e = Fails(With(BertKeys.Text, dir), ("data.dataset", "text"));
        Assert.Equal(DataErrorKind.NotUtf8, e.Kind);
        Assert.Contains("a.txt", e.Message);
    }

    [Fact]
    public void An_empty_corpus_folder_names_the_folder()
    {
        string dir = Folder("empty");
        var e = Fails(With(BertKeys.Text, dir), ("data.dataset", "text"));
        Assert.Equal(DataErrorKind.Empty, e.Kind);
        Assert.Contains(dir, e.Message);
    }

    [Fact]
    public void A_corpus_of_one_document_cannot_be_split_and_names_the_folder()
    {
        string dir = Folder("single", ("only.txt", "One short document. It has two sentences.\n"u8.ToArray()));
        var e = Fails(With(BertKeys.Text, dir), ("data.dataset", "text"));
        Assert.Equal(DataErrorKind.Empty, e.Kind);
        Assert.Contains(dir, e.Message);
    }

    [Fact]
    public void A_vocabulary_without_the_special_tokens_names_the_file_and_the_tokens()
    {
        string dir = Folder("vocab", ("vocab.txt", "[PAD]\n[UNK]\nthe\nof\n"u8.ToArray()));
        var e = Fails(With(BertKeys.Vocab, dir));
        Assert.Contains("vocab.txt", e.Message);
        Assert.Contains("[CLS]", e.Message);
        Assert.Contains("[MASK]", e.Message);
    }

    [Fact]
    public void A_glue_file_with_a_missing_column_names_the_file_and_column()
    {
        string glue = Folder("glue");
        string sst = Folder(Path.Combine("glue", "SST-2"),
            ("train.tsv", "sentence\tscore\na fine film\t1\n"u8.ToArray()), ("dev.tsv", "sentence\tlabel\ndull\t0\n"u8.ToArray()));
        var e = Fails(With(BertKeys.Glue, glue), ("downstream.task", "sst2"));
        Assert.Contains(Path.Combine(sst, "train.tsv"), e.Message);
        Assert.Contains("label", e.Message);
    }
}
