using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Evaluation;
using Crate.Core.Modules;
using Crate.Core.Training;

namespace Crate.Plugins.Bert;

/// <summary>
/// The task's config keys: the pre-training corpus and sequence length (<c>data.*</c>), the downstream task
/// (<c>downstream.*</c>), the encoder shape with Hugging Face's config names in words (<c>model.*</c>), the
/// masking (<c>mlm.*</c>), evaluation sizes (<c>eval.*</c>), and two recipes: <c>train.*</c> for MLM pre-training
/// and <c>finetune.*</c> (with <c>finetune.layer_decay</c>) for the downstream fine-tuning.
/// </summary>
public static class BertKeys
{
    /// <summary>Dataset names, as in <see cref="BertTask.Datasets"/>.</summary>
    public const string Sotu = "sotu", MobyDick = "moby-dick", Text = "text", Glue = "glue", Vocab = "bert-vocab", SotuVocab = "sotu-vocab";

    /// <summary>Downstream task names.</summary>
    public const string SotuParty = "sotu-party", SotuBshift = "sotu-bshift", Sst2 = "sst2", Mrpc = "mrpc";

    /// <summary><c>data.vocab</c>: which WordPiece vocabulary (a dataset name, so <c>--data NAME=DIR</c> replaces it).</summary>
    public static readonly ConfigKey<string> VocabSet = Key.Choice("data.vocab", Vocab,
        "WordPiece vocabulary: bert-vocab (shipped bert-base-uncased, 30,522 tokens) or sotu-vocab (shipped: bert-base-uncased cut to the 4,096 tokens the State of the Union addresses use most, data/README.md)",
        Vocab, SotuVocab);

    /// <summary><c>data.dataset</c>: the MLM pre-training corpus.</summary>
    public static readonly ConfigKey<string> Dataset = Key.Choice("data.dataset", Sotu,
        "MLM corpus: sotu (shipped State of the Union addresses, the party task's test addresses left out), moby-dick (shipped, by chapter), text (--data text=DIR of .txt/.txt.gz files, one document each)",
        Sotu, MobyDick, Text);

    /// <summary><c>data.max_len</c>: the longest sequence, [CLS] and [SEP] included.</summary>
    public static readonly ConfigKey<long> MaxLen = Key.Int("data.max_len", 128, "tokens per sequence, [CLS] and [SEP] included (also the position table of both models)", 8, 4096);

    /// <summary><c>data.val_fraction</c>: documents held out of pre-training for the MLM metrics.</summary>
    public static readonly ConfigKey<double> ValFraction = Key.Float("data.val_fraction", 0.1, "share of the MLM corpus's documents held out (split by document)", 0.01, 0.9);

    /// <summary><c>downstream.task</c>.</summary>
    public static readonly ConfigKey<string> Downstream = Key.Choice("downstream.task", SotuParty,
        "downstream classification: sotu-party (which party's president gave this State of the Union passage, split by president), " +
        "sotu-bshift (bigram shift: is this State of the Union sentence as written or are two adjacent words swapped; the party task's test addresses are the test split), " +
        "sst2 or mrpc (GLUE TSV, --data glue=DIR; dev is the test split)",
        SotuParty, SotuBshift, Sst2, Mrpc);

    /// <summary><c>downstream.max_train</c>: cap on downstream training examples.</summary>
    public static readonly ConfigKey<long> MaxTrain = Key.Int("downstream.max_train", 0, "downstream training examples used by the probes and fine-tuning, evenly spaced (0: all)", 0);

    /// <summary><c>downstream.max_test</c>: cap on downstream test examples.</summary>
    public static readonly ConfigKey<long> MaxTest = Key.Int("downstream.max_test", 0, "downstream test examples, evenly spaced (0: all)", 0);

    /// <summary><c>model.hidden_size</c>: width d.</summary>
    public static readonly ConfigKey<long> Hidden = Key.Int("model.hidden_size", 768, "width d", 1, 65536);

    /// <summary><c>model.num_layers</c>: L.</summary>
    public static readonly ConfigKey<long> Layers = Key.Int("model.num_layers", 12, "encoder layers L", 1, 256);

    /// <summary><c>model.num_heads</c>: K.</summary>
    public static readonly ConfigKey<long> Heads = Key.Int("model.num_heads", 12, "heads K (subspaces of CRATE's MSSA); must divide model.hidden_size", 1, 1024);

    /// <summary><c>model.intermediate_size</c>: BERT's MLP width (CRATE-BERT has none).</summary>
    public static readonly ConfigKey<long> Intermediate = Key.Int("model.intermediate_size", 3072, "BERT only: MLP width (the CRATE port carries it unused)", 1, 1 << 20);

    /// <summary><c>model.dropout</c>: hidden dropout (embeddings, layer outputs, classification head).</summary>
    public static readonly ConfigKey<double> Dropout = Key.Float("model.dropout", 0.1, "hidden dropout: embeddings, layer outputs, classification head", 0, 0.99);

    /// <summary><c>model.attention_dropout</c>.</summary>
    public static readonly ConfigKey<double> AttentionDropout = Key.Float("model.attention_dropout", 0.1, "dropout on the attention probabilities", 0, 0.99);

    /// <summary><c>model.eta</c>: ISTA step η (CRATE only).</summary>
    public static readonly ConfigKey<double> Eta = Key.Float("model.eta", 0.1, "CRATE only: ISTA step size eta", 0, 10);

    /// <summary><c>model.lambda</c>: ISTA sparsity λ (CRATE only).</summary>
    public static readonly ConfigKey<double> Lambda = Key.Float("model.lambda", 0.1, "CRATE only: ISTA sparsity weight lambda", 0, 100);

    /// <summary><c>mlm.probability</c>: BERT's 15 %.</summary>
    public static readonly ConfigKey<double> MlmProbability = Key.Float("mlm.probability", 0.15, "share of real tokens selected for prediction (80 % [MASK], 10 % random, 10 % kept)", 0.01, 1);

    /// <summary><c>eval.batch_size</c>.</summary>
    public static readonly ConfigKey<long> EvalBatch = Key.Int("eval.batch_size", 64, "sequences per evaluation batch", 1);

    /// <summary><c>eval.mlm_sequences</c>: held-out sequences for the MLM metrics.</summary>
    public static readonly ConfigKey<long> EvalSequences = Key.Int("eval.mlm_sequences", 0, "held-out sequences for MLM loss / accuracy, the first ones (0: all)", 0);

    /// <summary><c>eval.whitebox_sequences</c>: held-out sequences for CRATE-BERT's white-box rows.</summary>
    public static readonly ConfigKey<long> WhiteBoxSequences = Key.Int("eval.whitebox_sequences", 32,
        "CRATE only: held-out sequences of at least half of data.max_len ids measured layer by layer after pre-training and at initialisation, cut to the shortest of them (0: none)", 0, 4096);

    /// <summary><c>eval.probes</c>: the frozen-feature probes and the bag-of-words baseline.</summary>
    public static readonly ConfigKey<bool> Probes = Key.Bool("eval.probes", true, "linear probe and k-NN on frozen [CLS] / mean features after pre-training, and the bag-of-words baseline");

    /// <summary>The fine-tuning recipe keys (<c>finetune.*</c>).</summary>
    public static readonly TrainerKeySet Finetune = TrainerKeys.For("finetune");

    /// <summary>Every key of the task, the recipes last.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        Dataset, VocabSet, MaxLen, ValFraction, Downstream, MaxTrain, MaxTest, Hidden, Layers, Heads, Intermediate, Dropout, AttentionDropout,
        Eta, Lambda, MlmProbability, EvalBatch, EvalSequences, WhiteBoxSequences, Probes, ProbeKeys.Controls,
        .. TrainerKeys.All, .. Finetune.All, Finetune.LayerDecay,
    ];

    /// <summary>
    /// The model shape of <paramref name="config"/> for a vocabulary of <paramref name="vocabSize"/> ids with padding
    /// id <paramref name="padId"/>. Positions: data.max_len rows for BERT, data.max_len + pad + 1 for CRATE-BERT
    /// (RoBERTa's offset). Throws a <see cref="ConfigException"/> naming the key when the heads do not divide the width.
    /// </summary>
    public static BertModelConfig ModelConfig(ResolvedConfig config, string model, int vocabSize, int padId)
    {
        int heads = config.GetInt(Heads), width = config.GetInt(Hidden), maxLen = config.GetInt(MaxLen);
        if (width % heads != 0)
            throw new ConfigException($"config key 'model.num_heads': {heads} heads do not divide model.hidden_size = {width}");
        return new BertModelConfig(
            VocabSize: vocabSize,
            HiddenSize: width,
            NumLayers: config.GetInt(Layers),
            NumHeads: heads,
            IntermediateSize: config.GetInt(Intermediate),
            MaxPositions: model == BertModels.Crate ? maxLen + padId + 1 : maxLen,
            PadTokenId: padId,
            HiddenDropout: config.Get(Dropout),
            AttentionDropout: config.Get(AttentionDropout),
            IstaStep: config.Get(Eta),
            IstaLambda: config.Get(Lambda));
    }
}
