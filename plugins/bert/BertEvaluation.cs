using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Evaluation;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using Pooling = Crate.Core.Evaluation.Pooling;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Bert;

/// <summary>
/// The task's measurements: the MLM loss (training and held-out), masked-token accuracy and perplexity; downstream
/// accuracy and macro-F1 of a classifier; the frozen-feature probes ([CLS] and mean pooling) with the bag-of-words
/// baseline; and CRATE-BERT's layer-wise white-box rows (docs/paper.md §4).
/// </summary>
public static class BertEvaluation
{
    /// <summary>The seed of the held-out masks: the same positions for every model and run seed.</summary>
    public const long HeldOutMaskSeed = 20231120;

    /// <summary>
    /// Masks <paramref name="batch"/> with <paramref name="generator"/> and returns the mean cross-entropy over the
    /// selected positions (the vocabulary projection is computed for those positions only), with their count and how
    /// many were predicted right. With no position selected the loss is an exact 0 that still has a graph.
    /// </summary>
    public static (Tensor Loss, long Selected, long Correct) MaskedLoss(IMaskedLanguageModel model, TextBatch batch, MlmMasking masking, Generator generator)
    {
        var masked = masking.Apply(batch.Ids, batch.Padding.logical_not(), generator);
        var hidden = model.Encode(masked.InputIds, batch.Padding);                      // [B, T, d]
        var selected = masked.Selected;                                                 // [B, T]
        long count = selected.sum().item<long>();
        if (count == 0) return (hidden.sum() * 0.0, 0, 0);
        var logits = model.Logits(hidden[selected]);                                   // [M, V]
        var labels = masked.Labels[selected];                                           // [M]
        long correct = logits.argmax(-1).eq(labels).sum().item<long>();
        return (nn.functional.cross_entropy(logits, labels), count, correct);
    }

    /// <summary>
    /// Held-out MLM metrics over the first <paramref name="maxSequences"/> sequences (0: all), in order, masked by a
    /// generator seeded from <see cref="HeldOutMaskSeed"/> and the batch index: <c>mlm_loss</c> (nats per masked
    /// token), <c>mlm_acc</c> (%), <c>perplexity</c> = exp(mlm_loss), <c>mlm_tokens</c>. The caller sets eval mode and no_grad.
    /// </summary>
    public static Dictionary<string, double> HeldOut(IMaskedLanguageModel model, IReadOnlyList<PackedSequence> sequences, MlmMasking masking,
        int padId, int batchSize, long maxSequences, Device device, CancellationToken cancellation)
    {
        int n = maxSequences > 0 ? (int)Math.Min(maxSequences, sequences.Count) : sequences.Count;
        double lossSum = 0;
        long tokens = 0, correct = 0;
        using var generator = new Generator((ulong)HeldOutMaskSeed, device);
        for (int start = 0, index = 0; start < n; start += batchSize, index++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var rows = sequences.Skip(start).Take(Math.Min(batchSize, n - start)).Select(s => s.Ids).ToArray();
            var (ids, padding) = BertData.Collate(rows, padId, device);
            generator.manual_seed(SeedMath.Derive(HeldOutMaskSeed, index));
            var (loss, count, right) = MaskedLoss(model, new TextBatch(ids, padding, null), masking, generator);
            lossSum += loss.item<float>() * count;
            tokens += count;
            correct += right;
        }
        if (tokens == 0) throw new InvalidOperationException("no held-out position was selected for prediction; raise eval.mlm_sequences");
        double mean = lossSum / tokens;
        return new Dictionary<string, double>
        {
            ["mlm_loss"] = mean, ["mlm_acc"] = 100.0 * correct / tokens, ["perplexity"] = Math.Exp(mean), ["mlm_tokens"] = tokens,
        };
    }

    /// <summary>
    /// Accuracy (%), macro-F1 (%, the mean over classes of 2·TP / (2·TP + FP + FN), a class never predicted nor present
    /// scoring 0) and the majority baseline of <paramref name="classifier"/> on <paramref name="split"/>. The caller sets eval mode and no_grad.
    /// </summary>
    public static Dictionary<string, double> Classify(MaskedLmClassifier classifier, DownstreamSplit split, int classes, int padId, int batchSize,
        Device device, CancellationToken cancellation)
    {
        var predictions = new List<int>(split.Count);
        for (int start = 0; start < split.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var rows = split.Ids.Skip(start).Take(batchSize).ToArray();
            var (ids, padding) = BertData.Collate(rows, padId, device);
            predictions.AddRange(classifier.forward(ids, padding).argmax(-1).cpu().data<long>().Select(p => (int)p));
        }
        return ClassificationMetrics(predictions, split.Labels, classes);
    }

    /// <summary><c>accuracy</c>, <c>macro_f1</c> and <c>majority_acc</c> (always the most frequent true class), all in %.</summary>
    public static Dictionary<string, double> ClassificationMetrics(IReadOnlyList<int> predictions, IReadOnlyList<int> labels, int classes)
    {
        if (predictions.Count != labels.Count || labels.Count == 0)
            throw new ArgumentException($"{predictions.Count} predictions for {labels.Count} labels");
        double f1 = 0;
        for (int c = 0; c < classes; c++)
        {
            int tp = 0, fp = 0, fn = 0;
            for (int i = 0; i < labels.Count; i++)
            {
                if (predictions[i] == c && labels[i] == c) tp++;
                else if (predictions[i] == c) fp++;
                else if (labels[i] == c) fn++;
            }
            f1 += tp + fp + fn == 0 ? 0 : 2.0 * tp / (2.0 * tp + fp + fn);
        }
        int right = predictions.Where((p, i) => p == labels[i]).Count();
        int majority = labels.GroupBy(l => l).Max(g => g.Count());
        return new Dictionary<string, double>
        {
            ["accuracy"] = 100.0 * right / labels.Count, ["macro_f1"] = 100.0 * f1 / classes, ["majority_acc"] = 100.0 * majority / labels.Count,
        };
    }

    /// <summary>
    /// k-NN (k = 20, 1) and the linear probe on the frozen encoder's [CLS] and mean (over real tokens) features of the
    /// downstream splits: metrics <c>{prefix}cls_*</c> and <c>{prefix}mean_*</c> (<see cref="ProbeResult.ToMetrics"/>).
    /// </summary>
    public static Dictionary<string, double> FrozenProbes(IMaskedLanguageModel model, DownstreamTask task, int padId, int batchSize, Device device,
        string prefix = "")
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var (clsTrain, meanTrain) = Features(model, task.Train, task.ClassNames.Count, padId, batchSize, device);
        var (clsTest, meanTest) = Features(model, task.Test, task.ClassNames.Count, padId, batchSize, device);
        using (clsTrain) using (meanTrain) using (clsTest) using (meanTest)
        {
            foreach (var kv in RepresentationProbes.Run(clsTrain, clsTest).ToMetrics(prefix + "cls_")) metrics[kv.Key] = kv.Value;
            foreach (var kv in RepresentationProbes.Run(meanTrain, meanTest).ToMetrics(prefix + "mean_")) metrics[kv.Key] = kv.Value;
        }
        return metrics;
    }

    /// <summary>
    /// The bag-of-words baseline (<see cref="BagOfTokens"/>, tokens in ≥ 2 training examples) under the prefix <c>bow_</c>;
    /// with a <paramref name="cache"/> (it depends on no model) fitted once per results folder.
    /// </summary>
    public static IReadOnlyDictionary<string, double> BagOfWords(DownstreamTask task, BertWordPieceTokenizer tokenizer, ProbeCache? cache = null)
    {
        var bag = BagOfTokens.Fit(task.Train.Ids, minDocumentFrequency: 2, ignoredIds: [tokenizer.PadId, tokenizer.ClsId, tokenizer.SepId]);
        int classes = task.ClassNames.Count;
        using var train = bag.Transform(task.Train.Ids, task.Train.Labels.Select(l => (long)l).ToArray(), classes, "bag of words train");
        using var test = bag.Transform(task.Test.Ids, task.Test.Labels.Select(l => (long)l).ToArray(), classes, "bag of words test");
        var metrics = cache is null ? RepresentationProbes.Run(train, test).ToMetrics() : cache.Run(train, test, new ProbeOptions());
        return metrics.ToDictionary(kv => "bow_" + kv.Key, kv => kv.Value);
    }

    /// <summary>[CLS] and mean features of <paramref name="split"/> from one pass of the frozen encoder (eval mode, no_grad).</summary>
    private static (FeatureSet Cls, FeatureSet Mean) Features(IMaskedLanguageModel model, DownstreamSplit split, int classes, int padId, int batchSize, Device device)
    {
        var module = (nn.Module)model;
        bool wasTraining = module.training;
        module.eval();
        var cls = new List<Tensor>();
        var mean = new List<Tensor>();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < split.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var (ids, padding) = BertData.Collate(split.Ids.Skip(start).Take(batchSize).ToArray(), padId, device);
                var hidden = model.Encode(ids, padding);                                                    // [B, T, d]
                cls.Add(FeatureExtractor.Pool(hidden, Pooling.Cls).to(ScalarType.Float32, CPU).DetachFromDisposeScope());
                mean.Add(FeatureExtractor.Pool(hidden, Pooling.Mean, padding).to(ScalarType.Float32, CPU).DetachFromDisposeScope());
            }
            var labels = tensor(split.Labels.Select(l => (long)l).ToArray());
            return (new FeatureSet(cat(cls, 0), labels, classes, $"{split.Name} [CLS]"),
                    new FeatureSet(cat(mean, 0), labels.clone(), classes, $"{split.Name} mean"));
        }
        finally
        {
            foreach (var t in cls.Concat(mean)) t.Dispose();
            if (wasTraining) module.train();
        }
    }

    /// <summary>
    /// The held-out sequences the white-box rows measure: the first <paramref name="count"/> of at least half the longest
    /// held-out sequence's length (a document's last packed sequence can be a few ids), each cut to the shortest of them,
    /// so that the batch has no padding and every layer sees the same real tokens as in the trained model's forward pass.
    /// </summary>
    public static int[][] WhiteBoxSequences(IReadOnlyList<PackedSequence> heldOut, int count)
    {
        if (heldOut.Count == 0 || count <= 0) return [];
        int longest = heldOut.Max(s => s.Ids.Length);
        var rows = heldOut.Where(s => 2 * s.Ids.Length >= longest).Take(count).Select(s => s.Ids).ToArray();
        int length = rows.Min(r => r.Length);
        return rows.Select(r => r[..length]).ToArray();
    }

    /// <summary>
    /// docs/paper.md §4 on CRATE-BERT: Z¹ = the embeddings of <see cref="WhiteBoxSequences"/>, then per layer R^c of U·LN(Z^ℓ),
    /// R and the (non-)zero fraction of the ISTA output, over all tokens of every sequence ([CLS] included, no padding);
    /// rows tagged <paramref name="split"/> (<c>val</c> for the trained encoder, <c>val@init</c> at its initialisation).
    /// </summary>
    public static IReadOnlyList<WhiteBoxRow> WhiteBox(CrateBertForMaskedLM model, IReadOnlyList<PackedSequence> heldOut, int sequences, Device device,
        string split = "val")
    {
        var rows = WhiteBoxSequences(heldOut, sequences);
        if (rows.Length == 0) return [];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var (ids, _) = BertData.Collate(rows, model.Config.PadTokenId, device);                                       // [B, T], no padding
            return WhiteBoxProbe.Measure(model.Layers.Cast<ICrateLayer>().ToList(), model.Embeddings.forward(ids), split);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}
