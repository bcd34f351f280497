using Crate.Core.Data;
using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

public class GlueTasksTests
{
    [Fact]
    public void Sst2_reads_sentences_and_labels()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("SST-2"));
        File.WriteAllText(dir.File("SST-2/train.tsv"), "sentence\tlabel\nhide new secretions from the parental units \t0\n\"a charming\" movie \t1\n");
        File.WriteAllText(dir.File("SST-2/dev.tsv"), "sentence\tlabel\r\nit 's a charming journey . \t1\r\n");
        var train = GlueTasks.Load("SST-2", dir.Path, train: true);
        Assert.Equal([("hide new secretions from the parental units ", 0, 2), ("\"a charming\" movie ", 1, 3)], train.Select(x => (x.TextA, x.Label, x.Line)));
        Assert.All(train, x => Assert.Null(x.TextB));
        var dev = GlueTasks.Load("sst2", dir.File("SST-2"), train: false);   // the task folder itself works too
        Assert.Equal(("it 's a charming journey . ", 1), (dev[0].TextA, dev[0].Label));
    }

    [Fact]
    public void Mrpc_reads_pairs_from_glue_or_original_files()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("MRPC"));
        const string header = "\uFEFFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
        File.WriteAllText(dir.File("MRPC/msr_paraphrase_train.txt"), header + "1\t702876\t702977\tAmrozi accused his brother.\tHe accused his brother.\n0\t1\t2\tA \"quoted\" one.\tAnother.\n");
        File.WriteAllText(dir.File("MRPC/msr_paraphrase_test.txt"), header + "1\t3\t4\tX.\tY.\n");
        var train = GlueTasks.LoadMrpc(dir.Path, train: true);
        Assert.Equal([("Amrozi accused his brother.", "He accused his brother.", 1), ("A \"quoted\" one.", "Another.", 0)],
            train.Select(x => (x.TextA, x.TextB, x.Label)));
        Assert.EndsWith("msr_paraphrase_train.txt", train[0].File);
        Assert.EndsWith("msr_paraphrase_test.txt", GlueTasks.LoadMrpc(dir.Path, train: false)[0].File);
        File.WriteAllText(dir.File("MRPC/dev.tsv"), header + "0\t5\t6\tP.\tQ.\n");
        Assert.Equal(("P.", "Q.", 0), GlueTasks.Load("mrpc", dir.Path, false).Select(x => (x.TextA, x.TextB!, x.Label)).Single());
    }

    [Fact]
    public void Missing_columns_name_file_line_and_column()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("train.tsv"), "sentence\tlabel\ngood\t1\nno label here\n");
        var e = Assert.Throws<DatasetException>(() => GlueTasks.LoadSst2(dir.Path, true));
        Assert.Equal(dir.File("train.tsv"), e.FilePath);
        Assert.Contains("line 3: missing column 'label'", e.Message);

        File.WriteAllText(dir.File("train.tsv"), "Quality\t#1 ID\t#1 String\t#2 String\n1\t1\ta\tb\n");
        e = Assert.Throws<DatasetException>(() => GlueTasks.LoadMrpc(dir.Path, true));
        Assert.Contains("line 1: the header has no column '#2 ID'", e.Message);

        File.WriteAllText(dir.File("dev.tsv"), "sentence\tlabel\nfine\t2\n");
        e = Assert.Throws<DatasetException>(() => GlueTasks.LoadSst2(dir.Path, false));
        Assert.Equal(DataErrorKind.BadLabel, e.Kind);
        Assert.Contains("line 2: column 'label' is '2'", e.Message);

        e = Assert.Throws<DatasetException>(() => GlueTasks.LoadSst2(dir.File("nowhere"), false));
        Assert.Equal(DataErrorKind.Missing, e.Kind);
    }
}
