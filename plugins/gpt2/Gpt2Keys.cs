using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Modules;
using Crate.Core.Training;

namespace Crate.Plugins.Gpt2;

/// <summary>
/// The task's config keys. Model keys carry nanoGPT's <c>GPTConfig</c> names (<c>n_layer</c>, <c>n_head</c>,
/// <c>n_embd</c>, <c>block_size</c>, <c>vocab_size</c>, <c>dropout</c>, <c>bias</c>) plus CRATE's ISTA step
/// η and sparsity weight λ (docs/paper.md §1.2, pitfall 6.2); the recipe is the shared <c>train.*</c> keys.
/// </summary>
public static class Gpt2Keys
{
    /// <summary>Dataset names, as in <see cref="Gpt2Task.Datasets"/>.</summary>
    public const string MobyDick = "moby-dick", Text = "text", Tokens = "tokens";

    /// <summary><c>data.dataset</c>: which corpus is read.</summary>
    public static readonly ConfigKey<string> Dataset = Key.Choice("data.dataset", MobyDick,
        "corpus: moby-dick (shipped), text (UTF-8 .txt/.txt.gz file or folder, --data text=DIR), tokens (nanoGPT train.bin/val.bin, --data tokens=DIR)",
        MobyDick, Text, Tokens);

    /// <summary><c>data.path</c>: a file or folder read instead of the dataset's folder (a single text file needs it).</summary>
    public static readonly ConfigKey<string> DataPath = Key.String("data.path", "",
        "file or folder read instead of the dataset's --data folder (empty: the folder); lets data.dataset=text read one file");

    /// <summary><c>model.n_layer</c>: number of blocks L.</summary>
    public static readonly ConfigKey<long> NLayer = Key.Int("model.n_layer", 12, "blocks L", 1, 256);

    /// <summary><c>model.n_head</c>: heads K (subspaces of CRATE's MSSA).</summary>
    public static readonly ConfigKey<long> NHead = Key.Int("model.n_head", 12, "heads K; must divide model.n_embd", 1, 1024);

    /// <summary><c>model.n_embd</c>: width d.</summary>
    public static readonly ConfigKey<long> NEmbd = Key.Int("model.n_embd", 768, "width d", 1, 65536);

    /// <summary><c>model.block_size</c>: context length T (also the rows of the position embedding).</summary>
    public static readonly ConfigKey<long> BlockSize = Key.Int("model.block_size", 1024, "context length T in tokens", 1, 1 << 20);

    /// <summary><c>model.vocab_size</c>: embedding rows; GPT-2's 50,257 ids padded to 50,304 (a multiple of 64).</summary>
    public static readonly ConfigKey<long> VocabSize = Key.Int("model.vocab_size", 50304,
        "embedding rows: GPT-2's 50,257 ids, padded to 50,304 as nanoGPT; ids >= 50,257 are never sampled", Gpt2Tokenizer.VocabularySize, 65536);

    /// <summary><c>model.dropout</c>: embedding, attention and residual dropout.</summary>
    public static readonly ConfigKey<double> Dropout = Key.Float("model.dropout", 0.0, "dropout (embeddings, attention, residual)", 0, 0.99);

    /// <summary><c>model.bias</c>: biases in GPT-2's Linears and LayerNorms (CRATE-GPT's are fixed by its reference).</summary>
    public static readonly ConfigKey<bool> Bias = Key.Bool("model.bias", true, "GPT-2 only: biases in Linear and LayerNorm layers (CRATE-GPT's follow its reference)");

    /// <summary><c>model.eta</c>: ISTA step size η (CRATE only).</summary>
    public static readonly ConfigKey<double> Eta = Key.Float("model.eta", 0.1, "CRATE only: ISTA step size eta", 0, 10);

    /// <summary><c>model.lambda</c>: ISTA sparsity weight λ (CRATE only).</summary>
    public static readonly ConfigKey<double> Lambda = Key.Float("model.lambda", 0.1, "CRATE only: ISTA sparsity weight lambda", 0, 100);

    /// <summary><c>eval.batches</c>: validation batches per evaluation (0: the whole validation file).</summary>
    public static readonly ConfigKey<long> EvalBatches = Key.Int("eval.batches", 0,
        "validation batches per evaluation, consecutive windows from the file's start (0: the whole validation file)", 0);

    /// <summary><c>eval.batch_size</c>: sequences per validation batch.</summary>
    public static readonly ConfigKey<long> EvalBatchSize = Key.Int("eval.batch_size", 16, "sequences of model.block_size tokens per validation batch", 1);

    /// <summary><c>eval.whitebox_sequences</c>: validation sequences for the white-box measurements (CRATE only).</summary>
    public static readonly ConfigKey<long> WhiteBoxSequences = Key.Int("eval.whitebox_sequences", 16,
        "CRATE only: validation sequences measured layer by layer after training (0: none)", 0, 4096);

    /// <summary>Every key of the task, the trainer's last.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        Dataset, DataPath, NLayer, NHead, NEmbd, BlockSize, VocabSize, Dropout, Bias, Eta, Lambda,
        EvalBatches, EvalBatchSize, WhiteBoxSequences, .. TrainerKeys.All,
    ];

    /// <summary>
    /// The model shape of <paramref name="config"/>; throws a <see cref="ConfigException"/> naming the key
    /// when the heads do not divide the width.
    /// </summary>
    public static GptConfig ModelConfig(ResolvedConfig config)
    {
        int heads = config.GetInt(NHead), width = config.GetInt(NEmbd);
        if (width % heads != 0)
            throw new ConfigException($"config key 'model.n_head': {heads} heads do not divide model.n_embd = {width}");
        return new GptConfig(
            BlockSize: config.GetInt(BlockSize),
            VocabSize: config.GetInt(VocabSize),
            NLayer: config.GetInt(NLayer),
            NHead: heads,
            NEmbd: width,
            Dropout: config.Get(Dropout),
            Bias: config.Get(Bias),
            Eta: config.Get(Eta),
            Lambda: config.Get(Lambda));
    }
}
