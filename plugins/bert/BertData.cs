using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Data.Text;
using Crate.Core.Training;
using static TorchSharp.torch;

namespace Crate.Plugins.Bert;

/// <summary>A labelled downstream split: token ids ([CLS] ... [SEP], at most data.max_len) and labels.</summary>
public sealed record DownstreamSplit(string Name, IReadOnlyList<int[]> Ids, IReadOnlyList<int> Labels)
{
    /// <summary>Examples in the split.</summary>
    public int Count => Ids.Count;

    /// <summary>At most <paramref name="cap"/> examples, evenly spaced (0: all).</summary>
    public DownstreamSplit Capped(long cap)
    {
        if (cap <= 0 || cap >= Count) return this;
        var rows = Enumerable.Range(0, (int)cap).Select(i => (int)((long)i * Count / cap)).ToArray();
        return new DownstreamSplit($"{Name} ({cap} of {Count})", rows.Select(r => Ids[r]).ToArray(), rows.Select(r => Labels[r]).ToArray());
    }
}

/// <summary>The downstream task: its splits and class names.</summary>
public sealed record DownstreamTask(string Name, DownstreamSplit Train, DownstreamSplit Test, IReadOnlyList<string> ClassNames);

/// <summary>
/// The task's data: the WordPiece tokenizer (the shipped bert-base-uncased vocabulary unless <c>--data bert-vocab=DIR</c>),
/// the MLM corpus split by document (docs/paper.md §3e gives none; see the README), and the downstream task.
/// With the State of the Union corpus the party task's test addresses (<see cref="SotuPartySplit.ReservedDocumentIds"/>)
/// are left out of pre-training whichever downstream task is chosen.
/// </summary>
public sealed class BertData
{
    private BertData(BertWordPieceTokenizer tokenizer, MlmCorpus mlm, DownstreamTask downstream, string corpus)
    {
        Tokenizer = tokenizer;
        Mlm = mlm;
        Downstream = downstream;
        Corpus = corpus;
    }

    /// <summary>The tokenizer.</summary>
    public BertWordPieceTokenizer Tokenizer { get; }

    /// <summary>The pre-training sequences.</summary>
    public MlmCorpus Mlm { get; }

    /// <summary>The downstream task (capped by downstream.max_train / max_test).</summary>
    public DownstreamTask Downstream { get; }

    /// <summary>Where the MLM corpus came from.</summary>
    public string Corpus { get; }

    /// <summary>Reads everything <paramref name="config"/> asks for; bad files raise <see cref="DatasetException"/>s naming them.</summary>
    public static BertData Load(ResolvedConfig config, Func<string, string> dataDirectory)
    {
        var tokenizer = LoadTokenizer(dataDirectory(config.Get(BertKeys.VocabSet)));
        int maxLen = config.GetInt(BertKeys.MaxLen);
        string dataset = config.Get(BertKeys.Dataset);
        string source = dataDirectory(dataset);
        var (documents, exclude) = dataset switch
        {
            BertKeys.Sotu => SotuDocuments(source),
            BertKeys.MobyDick => (TextDocuments.ReadChapters(MobyDickFile(source)), (IReadOnlySet<string>)new HashSet<string>()),
            _ => (TextDocuments.Read(source), new HashSet<string>()),
        };
        var mlm = BuildCorpus(source, documents, tokenizer, maxLen, config.Get(BertKeys.ValFraction), exclude);
        var downstream = LoadDownstream(config, dataDirectory, tokenizer, maxLen);
        return new BertData(tokenizer, mlm, downstream with
        {
            Train = downstream.Train.Capped(config.Get(BertKeys.MaxTrain)),
            Test = downstream.Test.Capped(config.Get(BertKeys.MaxTest)),
        }, source);
    }

    /// <summary>The tokenizer of <c>DIR/vocab.txt.gz</c> or <c>DIR/vocab.txt</c>.</summary>
    public static BertWordPieceTokenizer LoadTokenizer(string directory)
    {
        DataFiles.RequireDirectory(directory);
        string gz = Path.Combine(directory, BertWordPieceTokenizer.ShippedVocabFileName), plain = Path.Combine(directory, "vocab.txt");
        if (File.Exists(gz)) return BertWordPieceTokenizer.Load(gz);
        if (File.Exists(plain)) return BertWordPieceTokenizer.Load(plain);
        throw new DatasetException(directory, DataErrorKind.Missing, "no vocab.txt.gz or vocab.txt (one WordPiece token per line)");
    }

    /// <summary>
    /// Packs and splits the MLM corpus; fewer than two documents, or a split without sequences, is an empty corpus
    /// (<see cref="DataErrorKind.Empty"/>, naming <paramref name="source"/>).
    /// </summary>
    public static MlmCorpus BuildCorpus(string source, IReadOnlyList<TextDocument> documents, BertWordPieceTokenizer tokenizer, int maxLen,
        double valFraction, IReadOnlySet<string> exclude)
    {
        MlmCorpus corpus;
        try { corpus = MlmCorpus.Build(documents, tokenizer, maxLen, valFraction, seed: 0, exclude); }
        catch (ArgumentException e)
        {
            throw new DatasetException(source, DataErrorKind.Empty, $"the MLM corpus cannot be split: {e.Message}", e);
        }
        if (corpus.Train.Count == 0 || corpus.Validation.Count == 0)
            throw new DatasetException(source, DataErrorKind.Empty,
                $"the MLM corpus gives {corpus.Train.Count} training and {corpus.Validation.Count} held-out sequences; both need at least one");
        return corpus;
    }

    private static (IReadOnlyList<TextDocument>, IReadOnlySet<string>) SotuDocuments(string directory)
    {
        var addresses = SotuCorpus.Load(directory);
        return (SotuCorpus.ReadDocuments(addresses), SotuPartySplit.Create(addresses).ReservedDocumentIds);
    }

    private static string MobyDickFile(string directory)
    {
        string file = Path.Combine(directory, "mobydick.txt.gz");
        DataFiles.RequireFile(file);
        return file;
    }

    private static DownstreamTask LoadDownstream(ResolvedConfig config, Func<string, string> dataDirectory, BertWordPieceTokenizer tokenizer, int maxLen)
    {
        string task = config.Get(BertKeys.Downstream);
        if (task == BertKeys.SotuBshift)
            return BigramShiftTask(SotuCorpus.Load(dataDirectory(BertKeys.Sotu)), tokenizer, maxLen);
        if (task == BertKeys.SotuParty)
        {
            var split = SotuPartySplit.Create(SotuCorpus.Load(dataDirectory(BertKeys.Sotu)));
            DownstreamSplit Passages(IReadOnlyList<SotuAddress> addresses, string name)
            {
                var passages = SotuPartyTask.Passages(addresses, tokenizer, maxLen);
                return new DownstreamSplit(name, passages.Select(p => p.Ids).ToArray(), passages.Select(p => p.Label).ToArray());
            }
            return new DownstreamTask("State of the Union: Democratic or Republican president (split by president)",
                Passages(split.Train, "train"), Passages(split.Test, "test"), SotuPartyTask.ClassNames);
        }
        string glue = dataDirectory(BertKeys.Glue);
        DownstreamSplit Glue(bool train)
        {
            var examples = GlueTasks.Load(task, glue, train);
            if (examples.Count == 0)
                throw new DatasetException(glue, DataErrorKind.Empty, $"GLUE {task} {(train ? "train" : "dev")} has no examples");
            return new DownstreamSplit(train ? "train" : "dev", examples.Select(e => Encode(tokenizer, e, maxLen)).ToArray(), examples.Select(e => e.Label).ToArray());
        }
        string[] names = task == BertKeys.Sst2 ? ["negative", "positive"] : ["not paraphrase", "paraphrase"];
        return new DownstreamTask(task == BertKeys.Sst2 ? "GLUE SST-2 (dev as test)" : "GLUE MRPC (dev as test)", Glue(true), Glue(false), names);
    }

    /// <summary>
    /// Bigram shift on the State of the Union (<see cref="BigramShift"/>, seed 0, sentences of at least
    /// <see cref="BigramShiftMinWords"/> words): the test split is the sentences of the party task's test addresses
    /// (<see cref="SotuPartySplit.ReservedDocumentIds"/>, never pre-trained on), the training split those of every other
    /// address; both in address order. The examples are the same for every seed and model.
    /// </summary>
    public static DownstreamTask BigramShiftTask(IReadOnlyList<SotuAddress> addresses, BertWordPieceTokenizer tokenizer, int maxLen)
    {
        var reserved = SotuPartySplit.Create(addresses).ReservedDocumentIds;
        DownstreamSplit Split(bool test, string name)
        {
            var documents = addresses.Where(a => reserved.Contains(a.Id) == test).Select(a => (a.Index, SotuCorpus.ReadDocument(a))).ToArray();
            var examples = BigramShift.Examples(documents, tokenizer, maxLen, BigramShiftMinWords);
            return new DownstreamSplit(name, examples.Select(e => e.Ids).ToArray(), examples.Select(e => e.Label).ToArray());
        }
        return new DownstreamTask("State of the Union bigram shift: sentence as written or two adjacent words swapped (test: the party task's test addresses)",
            Split(false, "train"), Split(true, "test"), BigramShift.ClassNames);
    }

    /// <summary>The fewest words of a bigram-shift sentence (SentEval's BShift uses sentences of 5 to 28 words).</summary>
    public const int BigramShiftMinWords = 5;

    /// <summary>[CLS] a [SEP] or [CLS] a [SEP] b [SEP], cutting the longer text first until it fits <paramref name="maxLen"/>.</summary>
    public static int[] Encode(BertWordPieceTokenizer tokenizer, GlueExample example, int maxLen)
    {
        var a = tokenizer.Encode(example.TextA).ToList();
        if (example.TextB is null)
            return tokenizer.WithSpecials(a.Take(maxLen - 2).ToArray());
        var b = tokenizer.Encode(example.TextB).ToList();
        while (a.Count + b.Count > maxLen - 3)
        {
            var longer = a.Count >= b.Count ? a : b;
            longer.RemoveAt(longer.Count - 1);
        }
        return tokenizer.WithSpecials(a.ToArray(), b.ToArray());
    }

    /// <summary>Sequences → ids [B, T] (int64, padded with <paramref name="padId"/> to the longest) and padding [B, T] (true = padding).</summary>
    public static (Tensor Ids, Tensor Padding) Collate(IReadOnlyList<int[]> sequences, int padId, Device device)
    {
        int width = sequences.Max(s => s.Length);
        var ids = new long[sequences.Count * width];
        var pad = new bool[sequences.Count * width];
        for (int r = 0; r < sequences.Count; r++)
            for (int t = 0; t < width; t++)
            {
                bool real = t < sequences[r].Length;
                ids[r * width + t] = real ? sequences[r][t] : padId;
                pad[r * width + t] = !real;
            }
        return (tensor(ids, [sequences.Count, width]).to(device), tensor(pad, [sequences.Count, width]).to(device));
    }
}

/// <summary>A micro-batch of sequences: ids [B, T] (int64), padding [B, T] (bool, true = padding), labels [B] or null.</summary>
public sealed record TextBatch(Tensor Ids, Tensor Padding, Tensor? Labels);

/// <summary>
/// Micro-batches of <paramref name="sequences"/> (and their <paramref name="labels"/>, if any) in a seeded per-epoch
/// order, padded to the longest of the batch: a pure function of the position (<see cref="IBatchSource{TBatch}"/>).
/// </summary>
public sealed class SequenceBatches(IReadOnlyList<int[]> sequences, IReadOnlyList<int>? labels, int microBatch, TrainingSeeds seeds, int padId)
    : IBatchSource<TextBatch>
{
    private (int Epoch, int[] Order)? _order;

    /// <inheritdoc />
    public int MicroBatchSize => microBatch;

    /// <inheritdoc />
    public long BatchesPerEpoch => sequences.Count / microBatch;

    /// <inheritdoc />
    public TextBatch Get(DataPosition position, Device device)
    {
        if (_order is not { } o || o.Epoch != position.Epoch)
            _order = (position.Epoch, seeds.EpochPermutation(position.Epoch, sequences.Count));
        var rows = _order.Value.Order.AsSpan((int)(position.Index * microBatch), microBatch).ToArray();
        var (ids, padding) = BertData.Collate(rows.Select(r => sequences[r]).ToArray(), padId, device);
        var y = labels is null ? null : tensor(rows.Select(r => (long)labels[r]).ToArray()).to(device);
        return new TextBatch(ids, padding, y);
    }
}
