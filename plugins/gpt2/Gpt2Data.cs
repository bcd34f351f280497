using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Data.Text;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Gpt2;

/// <summary>
/// The task's corpora as nanoGPT token files. <c>moby-dick</c> and <c>text</c> are raw UTF-8 text, tokenised
/// once with GPT-2's BPE (<see cref="Gpt2Tokenizer"/>) and split 90/10 by <see cref="TextCorpus"/>; the token
/// files are cached in <see cref="CacheRoot"/>. <c>tokens</c> is a folder with <c>train.bin</c> and
/// <c>val.bin</c> as nanoGPT's <c>prepare.py</c> writes them (e.g. OpenWebText), read in place.
/// </summary>
public static class Gpt2Data
{
    /// <summary>
    /// Where tokenised text is cached: <c>&lt;out&gt;/cache/text</c> when the run folder has the host's layout
    /// <c>&lt;out&gt;/&lt;task&gt;/&lt;model&gt;/&lt;run&gt;</c> (so every run and model of a results folder shares one
    /// tokenisation), else <c>&lt;run folder&gt;/cache</c>.
    /// </summary>
    public static string CacheRoot(IRunContext ctx)
    {
        string run = Path.GetFullPath(ctx.RunDirectory);
        string? model = Path.GetDirectoryName(run);
        string? task = model is null ? null : Path.GetDirectoryName(model);
        string? outDir = task is null ? null : Path.GetDirectoryName(task);
        bool hostLayout = outDir is not null && Path.GetFileName(task) == ctx.Task && Path.GetFileName(model) == ctx.Model;
        return hostLayout ? Path.Combine(outDir!, "cache", "text") : Path.Combine(run, "cache");
    }

    /// <summary>The file or folder the configured dataset is read from.</summary>
    public static string SourcePath(ResolvedConfig config, Func<string, string> dataDirectory)
    {
        string path = config.Get(Gpt2Keys.DataPath);
        return path.Length > 0 ? Path.GetFullPath(path) : dataDirectory(config.Get(Gpt2Keys.Dataset));
    }

    /// <summary>
    /// Opens the configured corpus (tokenising raw text into <paramref name="cacheRoot"/> the first time) and
    /// checks that both splits hold a context of <c>model.block_size</c> tokens plus its shifted target.
    /// Errors name the file and the cause (<see cref="DatasetException"/>).
    /// </summary>
    public static TokenCorpus Open(ResolvedConfig config, Func<string, string> dataDirectory, string cacheRoot)
    {
        string source = SourcePath(config, dataDirectory);
        var tokenizer = Gpt2Tokenizer.Shared;
        var corpus = config.Get(Gpt2Keys.Dataset) == Gpt2Keys.Tokens
            ? TextCorpus.OpenPrepared(RequireTokenFolder(source), tokenizer.VocabSize)
            : TextCorpus.Open(source, tokenizer, cacheRoot);
        try
        {
            int blockSize = config.GetInt(Gpt2Keys.BlockSize);
            RequireContext(corpus.Train, blockSize);
            RequireContext(corpus.Val, blockSize);
        }
        catch
        {
            corpus.Dispose();
            throw;
        }
        return corpus;
    }

    /// <summary>Throws when <paramref name="file"/> holds fewer than <paramref name="blockSize"/> + 1 tokens, naming the file and <c>model.block_size</c>.</summary>
    public static void RequireContext(TokenFile file, int blockSize)
    {
        if (file.Length < blockSize + 1L)
            throw new DatasetException(file.Path, DataErrorKind.ContextTooLong,
                $"holds {file.Length:N0} tokens, fewer than a context of model.block_size = {blockSize} plus its shifted target " +
                $"({blockSize + 1:N0}); lower model.block_size or use more text");
    }

    private static string RequireTokenFolder(string folder)
    {
        DataFiles.RequireDirectory(folder);
        foreach (var name in new[] { "train.bin", "val.bin" })
            if (!File.Exists(Path.Combine(folder, name)))
                throw new DatasetException(folder, DataErrorKind.Missing,
                    $"data.dataset=tokens needs nanoGPT's {name} (uint16 token ids, e.g. from data/openwebtext/prepare.py) in this folder");
        return folder;
    }

    /// <summary>
    /// Tokens per chunk of the tied head and its loss (<see cref="ModelLoss"/>): the largest block of logits alive is
    /// [256, 50,304] float32 (51 MB) instead of [B·T, 50,304] (412 MB for the small preset's 2,048 training tokens,
    /// 824 MB for its 4,096 validation tokens). Not a config key: the loss and gradients equal the unchunked ones up to
    /// float rounding, so results and run keys do not depend on it (plugins/gpt2/README.md, "Chunked head").
    /// </summary>
    public const int HeadChunkTokens = 256;

    /// <summary>
    /// nanoGPT's loss of <paramref name="model"/> on inputs [B, T] and targets [B, T] (<see cref="LanguageModelLoss"/>),
    /// with the tied head applied in chunks of <see cref="HeadChunkTokens"/> tokens (<see cref="ChunkedCrossEntropy"/>) so
    /// that the [B·T, V] logits never exist; a model without a linear head gets the plain loss of its logits.
    /// </summary>
    public static Tensor ModelLoss(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y) => model is ILinearHeadLanguageModel lm
        ? ChunkedCrossEntropy.Loss(lm.Hidden(x), lm.HeadWeight, y, HeadChunkTokens, ignoreIndex: -1, lm.HeadComputeType)
        : LanguageModelLoss(model.forward(x), y);

    /// <summary>nanoGPT's loss: cross-entropy of logits [B, T, V] against targets [B, T], mean over targets != −1.</summary>
    public static Tensor LanguageModelLoss(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        long vocab = logits.shape[^1];
        return nn.functional.cross_entropy(logits.view(-1, vocab), targets.view(-1), ignore_index: -1)   // [B·T, V] vs [B·T]
            .MoveToOuterDisposeScope();
    }
}
