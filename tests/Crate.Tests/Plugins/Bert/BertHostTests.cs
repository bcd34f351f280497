using Crate.Tests.Host;

namespace Crate.Tests.Plugins.Bert;

/// <summary>The bert plugin through the built host: part of <c>reproduce all</c>, and bad input on <c>evaluate</c> is exit 2.</summary>
[Collection("host processes")]
public sealed class BertHostTests
{
    [Fact]
    public void Reproduce_all_plans_both_bert_models()
    {
        string outDir = HostProcess.TempDir("bert-plan");
        var r = HostProcess.Run(["reproduce", "all", "--dry-run", "--seeds", "0", "--preset", "smoke", "--out", outDir]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("bert/crate (crate), preset smoke", r.Stdout);
        Assert.Contains("bert/bert (baseline), preset smoke", r.Stdout);
        Directory.Delete(outDir, recursive: true);
    }

    [Fact]
    public void Reproduce_on_a_corpus_found_corrupt_only_inside_the_run_is_exit_2_with_one_line_naming_the_file()
    {
        // The corpus folder exists (the plan accepts it); its first file is Latin-1, found when the run reads it.
        string dir = HostProcess.TempDir("bert-latin1");
        string text = Path.Combine(dir, "text");
        Directory.CreateDirectory(text);
        File.WriteAllBytes(Path.Combine(text, "a.txt"), [.. "Call me Ishmael. Some years ago, "u8, 0xE9, (byte)'t', (byte)'\n']);
        File.WriteAllText(Path.Combine(text, "b.txt"), "Another document.\n");
        string outDir = Path.Combine(dir, "out");
        var r = HostProcess.Run(["reproduce", "bert", "--preset", "smoke", "--seeds", "0", "--jobs", "2", "--threads", "2",
            "--data", $"text={text}", "--set", "data.dataset=text", "--out", outDir]);
        Assert.True(r.ExitCode == 2, r.ToString());
        var error = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: {Path.Combine(text, "a.txt")}: not valid UTF-8", error);
        using (var store = Crate.Results.ResultsStore.Open(outDir))
            Assert.All(store.Runs(), run => Assert.Equal(Crate.Results.RunStatus.Failed, run.Status));   // recorded, as any failed run
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Evaluate_with_a_vocabulary_without_special_tokens_is_exit_2_with_one_line_naming_the_file()
    {
        string dir = HostProcess.TempDir("bert-vocab");
        string vocab = Path.Combine(dir, "vocab.txt");
        File.WriteAllText(vocab, "[PAD]\n[UNK]\nthe\n");
        string checkpoint = Path.Combine(dir, "model.safetensors");
        File.WriteAllBytes(checkpoint, new byte[16]);                 // never read: the data are loaded first
        var r = HostProcess.Run(["evaluate", "bert", "--model", "crate", "--preset", "smoke", "--checkpoint", checkpoint,
            "--data", $"bert-vocab={dir}", "--out", Path.Combine(dir, "out")]);
        Assert.True(r.ExitCode == 2, r.ToString());
        var error = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Contains(vocab, error);
        Assert.Contains("[CLS]", error);
        Directory.Delete(dir, recursive: true);
    }
}
