using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Plugins.Gpt2;
using Crate.Tests.Data;
using Crate.Core.Training;

namespace Crate.Tests.Plugins.Gpt2;

/// <summary>Bad corpora and contexts give an error naming the file or key, before any training step.</summary>
public sealed class Gpt2BadInputTests : IDisposable
{
    private readonly Gpt2Task _task = new();
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ResolvedConfig Config(string dataset, string path, string blockSize = "32") =>
        _task.Schema.Resolve(Gpt2Presets.Smoke.ValuesFor(Gpt2Models.Crate),
            [KeyValuePair.Create("data.dataset", dataset), KeyValuePair.Create("data.path", path), KeyValuePair.Create("model.block_size", blockSize)]);

    private DatasetException Open(ResolvedConfig config)
    {
        string cache = Path.Combine(_dir.Path, "cache");
        return Assert.Throws<DatasetException>(() => Gpt2Data.Open(config, name => throw new InvalidOperationException(name), cache).Dispose());
    }

    private string Tokens(string folder, byte[] train, byte[] val)
    {
        string dir = Path.Combine(_dir.Path, folder);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "train.bin"), train);
        File.WriteAllBytes(Path.Combine(dir, "val.bin"), val);
        return dir;
    }

    [Fact]
    public void Empty_text_names_the_file()
    {
        string file = _dir.File("empty.txt");
        File.WriteAllText(file, "  \n\n ");
        var e = Open(Config("text", file));
        Assert.Equal(DataErrorKind.Empty, e.Kind);
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public void Text_that_is_not_utf8_names_the_file_and_byte()
    {
        string file = _dir.File("latin1.txt");
        File.WriteAllBytes(file, [.. "Call me Ishmael.\n\nSome years ago, "u8, 0xE9, (byte)'t', (byte)'\n']);
        var e = Open(Config("text", file));
        Assert.Equal(DataErrorKind.NotUtf8, e.Kind);
        Assert.Contains(file, e.Message);
        Assert.Contains("byte", e.Message);
    }

    [Fact]
    public void A_token_file_with_an_odd_byte_count_names_the_file()
    {
        string dir = Tokens("odd", [1, 0, 2], TokenBytes.Of(Enumerable.Range(0, 100)));
        var e = Open(Config("tokens", dir));
        Assert.Equal(DataErrorKind.OddByteCount, e.Kind);
        Assert.Contains(Path.Combine(dir, "train.bin"), e.Message);
    }

    [Fact]
    public void A_token_id_beyond_the_vocabulary_names_the_file_and_position()
    {
        string dir = Tokens("range", TokenBytes.Of(Enumerable.Range(0, 100)), TokenBytes.Of([.. Enumerable.Range(0, 60), 50257, .. Enumerable.Range(0, 39)]));
        var e = Open(Config("tokens", dir));
        Assert.Equal(DataErrorKind.IdOutOfRange, e.Kind);
        Assert.Contains(Path.Combine(dir, "val.bin"), e.Message);
        Assert.Contains("50257", e.Message);
    }

    [Fact]
    public void A_context_longer_than_the_validation_file_names_the_file_and_the_key()
    {
        string dir = Tokens("short", TokenBytes.Of(Enumerable.Range(0, 400)), TokenBytes.Of(Enumerable.Range(0, 40)));
        string cache = Path.Combine(_dir.Path, "cache");
        using (var fits = Gpt2Data.Open(Config("tokens", dir, blockSize: "39"), _ => dir, cache))
            Assert.Equal(40, fits.Val.Length);                                  // 39 inputs + 1 shifted target
        var e = Open(Config("tokens", dir, blockSize: "40"));
        Assert.Equal(DataErrorKind.ContextTooLong, e.Kind);
        Assert.Contains(Path.Combine(dir, "val.bin"), e.Message);
        Assert.Contains("model.block_size", e.Message);
    }

    [Fact]
    public void A_tokens_folder_without_the_files_says_what_it_needs()
    {
        string dir = Path.Combine(_dir.Path, "nothing");
        Directory.CreateDirectory(dir);
        var e = Open(Config("tokens", dir));
        Assert.Equal(DataErrorKind.Missing, e.Kind);
        Assert.Contains("train.bin", e.Message);
    }

    [Fact]
    public void Run_reports_a_too_long_context_before_training()
    {
        string dir = Tokens("run", TokenBytes.Of(Enumerable.Range(0, 400)), TokenBytes.Of(Enumerable.Range(0, 40)));
        var config = Config("tokens", dir, blockSize: "64");
        using var ctx = new LocalRunContext(Path.Combine(_dir.Path, "out", "gpt2", "crate", "seed0-x"), 0, config) { Task = "gpt2", Model = "crate" };
        var e = Assert.Throws<DatasetException>(() => _task.Run(ctx));
        Assert.Equal(DataErrorKind.ContextTooLong, e.Kind);
        Assert.Contains(Path.Combine(dir, "val.bin"), e.Message);
        Assert.Contains("model.block_size = 64", e.Message);
        Assert.Empty(ctx.Progress);
        Assert.False(Directory.Exists(ctx.CheckpointDirectory));
    }
}

